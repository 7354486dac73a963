import Foundation
import Glibc

/// What /proc says about one process.
struct ProcSnapshot {
    /// utime + stime, in clock ticks (`sysconf(_SC_CLK_TCK)`, 100/s here).
    var cpuTicks: Int
    /// cutime + cstime: CPU of children it has waited for (the handlers), in ticks.
    var childTicks: Int
    /// Each thread's run time from /proc/PID/task/TID/schedstat, in nanoseconds: the same CPU
    /// time as `cpuTicks` at nanosecond resolution, but only for threads alive now.
    var threadRunNanoseconds: [Int: Int]
    /// Voluntary + involuntary context switches of each thread alive now.
    var contextSwitches: [Int: Int]
    var threads: Int
    /// kB.
    var vmRSS: Int
    var vmHWM: Int
    /// The parts of VmRSS: anonymous memory (heap, stacks: the process's own) and file pages
    /// (mapped binaries and libraries, shared with every process that maps them).
    var rssAnon: Int
    var rssFile: Int
    var at: ContinuousClock.Instant

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func read(_ pid: Int32) -> ProcSnapshot? {
        let at = ContinuousClock.now
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime 14, stime 15, cutime 16, cstime 17.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Int { Int(fields[number - 3]) ?? 0 }
        var snapshot = ProcSnapshot(
            cpuTicks: field(14) + field(15), childTicks: field(16) + field(17), threadRunNanoseconds: [:],
            contextSwitches: [:], threads: 0, vmRSS: 0, vmHWM: 0, rssAnon: 0, rssFile: 0, at: at)
        for line in status.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let number = Int(parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
            switch parts[0] {
            case "VmRSS": snapshot.vmRSS = number
            case "VmHWM": snapshot.vmHWM = number
            case "RssAnon": snapshot.rssAnon = number
            case "RssFile": snapshot.rssFile = number
            case "Threads": snapshot.threads = number
            default: break
            }
        }
        let taskDirectory = "/proc/\(pid)/task"
        for thread in (try? FileManager.default.contentsOfDirectory(atPath: taskDirectory)) ?? [] {
            if let schedstat = try? String(contentsOfFile: "\(taskDirectory)/\(thread)/schedstat", encoding: .utf8) {
                snapshot.threadRunNanoseconds[Int(thread) ?? 0] = Int(schedstat.split(separator: " ").first ?? "") ?? 0
            }
            if let threadStatus = try? String(contentsOfFile: "\(taskDirectory)/\(thread)/status", encoding: .utf8) {
                for line in threadStatus.split(separator: "\n") where line.contains("ctxt_switches") {
                    snapshot.contextSwitches[Int(thread) ?? 0, default: 0] += Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last ?? "") ?? 0
                }
            }
        }
        return snapshot
    }

    /// CPU nanoseconds from `before` to this snapshot, thread by thread: threads that ended in
    /// between are missing (libdispatch retires idle worker threads), new ones count whole.
    func threadRunNanoseconds(since before: ProcSnapshot) -> Int {
        threadRunNanoseconds.reduce(0) { sum, thread in sum + thread.value - (before.threadRunNanoseconds[thread.key] ?? 0) }
    }

    /// Context switches from `before` to this snapshot, counted as `threadRunNanoseconds(since:)`.
    func contextSwitches(since before: ProcSnapshot) -> Int {
        contextSwitches.reduce(0) { sum, thread in sum + thread.value - (before.contextSwitches[thread.key] ?? 0) }
    }
}

/// This process's CPU time (every thread: the in-process endpoint and the bench itself).
func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// CPU time of children this process has waited for (bare-spawn handlers).
func childrenCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Whole-machine CPU from /proc/stat: busy and total jiffies over every core.
func machineJiffies() -> (busy: Int, total: Int) {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = text.split(separator: "\n").first
    else { return (0, 0) }
    let numbers = line.split(separator: " ").dropFirst().compactMap { Int($0) }
    let total = numbers.reduce(0, +)
    let idle = (numbers.count > 4 ? numbers[3] + numbers[4] : 0)  // idle + iowait
    return (total - idle, total)
}
