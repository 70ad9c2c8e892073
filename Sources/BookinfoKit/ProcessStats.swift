import Foundation

/// Resident memory and CPU time of this process, read from `/proc/self` (zero where absent).
public struct ProcessStats: Sendable {
    public var residentBytes: Int
    public var cpuSeconds: Double

    /// Reads the current figures.
    public static func current() -> ProcessStats {
        var stats = ProcessStats(residentBytes: 0, cpuSeconds: 0)
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ")
            if fields.count > 1, let pages = Int(fields[1]) { stats.residentBytes = pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
        }
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command name: state is field 3, utime 14 and stime 15 (1-based).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                stats.cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        return stats
    }

    func exposition(startTime: Double) -> String {
        """
        # HELP process_resident_memory_bytes Resident memory size in bytes.
        # TYPE process_resident_memory_bytes gauge
        process_resident_memory_bytes \(residentBytes)
        # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
        # TYPE process_cpu_seconds_total counter
        process_cpu_seconds_total \(cpuSeconds)
        # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
        # TYPE process_start_time_seconds gauge
        process_start_time_seconds \(startTime)

        """
    }
}
