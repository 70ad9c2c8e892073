import BookinfoKit
import Hummingbird
import Reviews

let environment = BookinfoEnvironment()
BookinfoServer.bootstrapLogging(environment)
let port = BookinfoServer.port(arguments: CommandLine.arguments, usage: "reviews [<port>]", defaultPort: 9080)
let app = BookinfoServer.application(
    name: "reviews", handler: ReviewsService(configuration: ReviewsConfiguration(environment)),
    metrics: MetricsRegistry(), host: BookinfoServer.listenHost(environment), port: port)
try await app.runService()
