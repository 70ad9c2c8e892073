import Foundation
import BookinfoKit
import Details
import Hummingbird

let environment = BookinfoEnvironment()
BookinfoServer.bootstrapLogging(environment)
guard let port = BookinfoServer.port(arguments: CommandLine.arguments, usage: "details <port>") else { exit(2) }
let app = BookinfoServer.application(
    name: "details", handler: DetailsService(environment: environment), metrics: MetricsRegistry(),
    host: BookinfoServer.listenHost(environment), port: port)
try await app.runService()
