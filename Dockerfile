# syntax=docker/dockerfile:1
# The skyline image docker-compose.yml runs: the binary built in a Rust
# image, then copied alone into a small Debian runtime.

FROM rust:1.91-bookworm AS build
# The C parts built from source: librdkafka (make, perl), libsql's SQLite
# (cmake, and clang for its bindgen bindings), aws-lc (cmake); sqlx's
# SQLite driver links the system libsqlite3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake clang libclang-dev pkg-config libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The registry and target directories are build caches, so a rebuild after
# a source change recompiles skyline's crates only; the binary is copied out
# of the cache mount to stay in the layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin skyline \
 && cp target/release/skyline /usr/local/bin/skyline

FROM debian:bookworm-slim
# What `ldd skyline` lists beyond glibc (libc, libm, libgcc_s):
# libsqlite3 (librdkafka, zlib, zstd and the TLS library are compiled in).
# ca-certificates for alerters over https.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libsqlite3-0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/skyline --create-home skyline
COPY --from=build /usr/local/bin/skyline /usr/local/bin/skyline
COPY skyline.example.toml /etc/skyline/skyline.example.toml
USER skyline
WORKDIR /var/lib/skyline
ENTRYPOINT []
CMD ["skyline", "--help"]
