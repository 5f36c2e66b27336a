# Multi-stage build of the gateway. TLS uses rustls with bundled roots: no OpenSSL needed.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
COPY --from=build /src/target/release/switchboard /usr/local/bin/switchboard
ENV SWITCHBOARD__SERVER__LISTEN=0.0.0.0:4000
EXPOSE 4000
ENTRYPOINT ["switchboard"]
CMD ["serve"]
