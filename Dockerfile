# Multi-stage build of the gateway. TLS is rustls (aws-lc-rs) verifying against the system trust
# store, so the runtime image carries ca-certificates; no OpenSSL needed. The emulator is part of
# the binary (`switchboard emulate`), so the demo needs no other image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, in a layer of their own: a change to the sources does not rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src tests \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs tests/clients.rs tests/shared_cache.rs \
 && cargo build --release --locked --bin switchboard \
 && rm -rf src tests
COPY . .
# `.git` is not copied: pass the commit for `switchboard_build_info` (e.g.
# `--build-arg SWITCHBOARD_GIT_SHA=$(git rev-parse --short=12 HEAD)`).
ARG SWITCHBOARD_GIT_SHA=unknown
ENV SWITCHBOARD_GIT_SHA=$SWITCHBOARD_GIT_SHA
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin switchboard

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin switchboard
COPY --from=build /src/target/release/switchboard /usr/local/bin/switchboard
USER 10001
ENV SWITCHBOARD__SERVER__LISTEN=0.0.0.0:4000
EXPOSE 4000
# The binary checks itself (no curl in the image): exit 0 while /healthz answers 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["switchboard", "health"]
ENTRYPOINT ["switchboard"]
CMD ["serve"]
