import BookinfoKit
import Details
import Hummingbird

let environment = BookinfoEnvironment()
BookinfoServer.bootstrapLogging(environment)
let port = BookinfoServer.port(arguments: CommandLine.arguments, usage: "details <port>")
let app = BookinfoServer.application(
    name: "details", handler: DetailsService(environment: environment), metrics: MetricsRegistry(),
    host: BookinfoServer.listenHost(environment), port: port)
try await app.runService()
