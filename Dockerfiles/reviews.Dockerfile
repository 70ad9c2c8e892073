# The reviews service of Istio's bookinfo, in Swift (SERVICE_VERSION v1, v2 or v3 selects the version).
# Build from the repository root:  docker build -f Dockerfiles/reviews.Dockerfile -t meshdojo/reviews:0.1.0 .
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product reviews \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/reviews" /out/reviews \
 && strip /out/reviews

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 zlib1g ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/reviews /usr/local/bin/reviews
USER 65532:65532
EXPOSE 9080
ENTRYPOINT ["/usr/local/bin/reviews"]
CMD ["9080"]
