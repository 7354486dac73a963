public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Resident set size of this process in bytes, from /proc/self/status.
public func residentSetSize() -> Int {
    let kilobytes = statusFields("/proc/self/status")["VmRSS"]?.split(separator: " ").first.flatMap { Int($0) } ?? 0
    return kilobytes * 1024
}

/// Whether a process is gone (or a zombie nobody reaped yet, which cannot run any more).
public func processIsGone(_ pid: pid_t) -> Bool {
    if kill(pid, 0) != 0 { return errno == ESRCH }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}

/// The fields of one thread's `/proc/PID/task/TID/status` (`SigBlk`, `voluntary_ctxt_switches`,
/// …), values trimmed; empty if the thread is gone.
public func threadStatus(process pid: pid_t, thread tid: pid_t) -> [String: String] {
    statusFields("/proc/\(pid)/task/\(tid)/status")
}

/// A `/proc/…/status` file's `Name: value` lines; empty if it cannot be read.
private func statusFields(_ path: String) -> [String: String] {
    guard let status = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
    var fields: [String: String] = [:]
    for line in status.split(separator: "\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return fields
}

/// The threads of `pid` whose name (`comm`) is `name`, or starts with `prefix`.
public func threads(of pid: pid_t, named name: String? = nil, prefix: String? = nil) -> [pid_t] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.compactMap { entry in
        guard let tid = pid_t(entry),
            let comm = (try? String(contentsOfFile: "/proc/\(pid)/task/\(entry)/comm", encoding: .utf8))?.trimmingCharacters(in: .newlines),
            name.map({ comm == $0 }) ?? true, prefix.map({ comm.hasPrefix($0) }) ?? true
        else { return nil }
        return tid
    }
}

/// How often a thread was switched out (voluntary + involuntary context switches), from its status.
public func contextSwitches(process pid: pid_t, thread tid: pid_t) -> Int {
    let status = threadStatus(process: pid, thread: tid)
    return (Int(status["voluntary_ctxt_switches"] ?? "") ?? 0) + (Int(status["nonvoluntary_ctxt_switches"] ?? "") ?? 0)
}
