# The details service of Istio's bookinfo, in Swift (ENABLE_EXTERNAL_BOOK_SERVICE=true makes it v2).
# Build from the repository root:  docker build -f Dockerfiles/details.Dockerfile -t meshdojo/details:0.1.0 .
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product details \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/details" /out/details \
 && strip /out/details

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 zlib1g ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/details /usr/local/bin/details
USER 65532:65532
EXPOSE 9080
ENTRYPOINT ["/usr/local/bin/details"]
CMD ["9080"]
