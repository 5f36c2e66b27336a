# Multi-stage build of the gateway. TLS is rustls (aws-lc-rs) verifying against the system trust
# store, so the runtime image carries ca-certificates; no OpenSSL needed.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/switchboard /usr/local/bin/switchboard
ENV SWITCHBOARD__SERVER__LISTEN=0.0.0.0:4000
EXPOSE 4000
ENTRYPOINT ["switchboard"]
CMD ["serve"]
