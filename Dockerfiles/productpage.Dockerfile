# The productpage service of Istio's bookinfo, in Swift: Istio 1.0.6's page with Bootstrap and jQuery served
# from /static/ (Debian's libjs-bootstrap and libjs-jquery, so it is styled offline); PRODUCTPAGE_UI=classic-1.0.6
# links 1.0.6's CDNs instead, PRODUCTPAGE_UI=modern gives the current page.
# Build from the repository root:  docker build -f Dockerfiles/productpage.Dockerfile -t meshdojo/productpage:0.1.0 .
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product productpage \
 && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/productpage" /out/productpage \
 && strip /out/productpage

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libstdc++6 zlib1g ca-certificates tzdata libjs-bootstrap libjs-jquery \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/productpage /usr/local/bin/productpage
USER 65532:65532
EXPOSE 9080
ENTRYPOINT ["/usr/local/bin/productpage"]
CMD ["9080"]
