import Foundation
import BookinfoKit
import Hummingbird
import Productpage

let environment = BookinfoEnvironment()
BookinfoServer.bootstrapLogging(environment)
guard let port = BookinfoServer.port(arguments: CommandLine.arguments, usage: "productpage <port>") else { exit(2) }
let metrics = MetricsRegistry()
let app = BookinfoServer.application(
    name: "productpage",
    handler: ProductpageService(configuration: ProductpageConfiguration(environment), metrics: metrics),
    metrics: metrics, host: BookinfoServer.listenHost(environment), port: port)
try await app.runService()
