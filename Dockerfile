# Builds the skyline binary (used by docker-compose.yml).
FROM rust:1.91-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin skyline

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libsqlite3-0 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/skyline /usr/local/bin/skyline
COPY skyline.example.toml /etc/skyline/skyline.example.toml
ENTRYPOINT []
