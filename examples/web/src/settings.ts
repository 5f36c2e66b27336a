// Where the gateway is and who the user is. A real app gets the token from its OIDC
// sign-in; this sample takes it from the URL (`?token=`), or runs without one against the
// demo gateway (`cargo run --release`, no config), which needs none. The gateway defaults
// to /graphql on the page's own origin (Vite's dev and preview servers proxy it).
const params = new URLSearchParams(window.location.search);

export const settings = {
  gateway: params.get('gateway') ?? import.meta.env.VITE_GATEWAY_URL ?? new URL('graphql', window.location.href).href,
  token: params.get('token') ?? import.meta.env.VITE_TOKEN ?? null,
  pageSize: Number(params.get('pageSize') ?? 20),
};
