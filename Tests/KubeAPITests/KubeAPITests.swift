import Testing
@testable import KubeAPI
