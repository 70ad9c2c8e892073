import Foundation
import BookinfoKit
import Hummingbird
import Reviews

let environment = BookinfoEnvironment()
BookinfoServer.bootstrapLogging(environment)
guard let port = BookinfoServer.port(arguments: CommandLine.arguments, usage: "reviews [<port>]", defaultPort: 9080) else { exit(2) }
let app = BookinfoServer.application(
    name: "reviews", handler: ReviewsService(configuration: ReviewsConfiguration(environment)),
    metrics: MetricsRegistry(), host: BookinfoServer.listenHost(environment), port: port)
try await app.runService()
