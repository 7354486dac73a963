/// When each running task's next heartbeat is due, for `HeartbeatScheduler`: no clock, no
/// threads. Times are durations on the scheduler's clock since it was made.
///
/// A task's heartbeat is due one `HeartbeatSchedule` delay after its start or after its previous
/// heartbeat's answer; while a heartbeat is on its way the task has no due time. `within` is the
/// time the service is promised to hear from the task again: the interval, less the delays slept
/// since the last heartbeat the service took (a failed one does not reset it).
struct HeartbeatTimetable<Beat> {
    struct Entry {
        var beat: Beat
        var schedule: HeartbeatSchedule
        /// Nil while a heartbeat is on its way.
        var due: Duration?
        /// The delay that ends at `due`.
        var delay: Duration
        var sinceAcknowledged: Duration = .zero
    }

    /// A heartbeat to send now.
    struct Send {
        var id: UInt64
        var beat: Beat
        var within: Duration
    }

    private(set) var entries: [UInt64: Entry] = [:]
    private var nextID: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }

    /// The earliest due time of any task, or nil if none waits for one.
    var earliestDue: Duration? {
        var earliest: Duration?
        for entry in entries.values {
            if let due = entry.due, earliest.map({ due < $0 }) ?? true { earliest = due }
        }
        return earliest
    }

    /// Adds a task whose first heartbeat is due `delay` after `now`; returns its id.
    mutating func add(_ beat: Beat, schedule: HeartbeatSchedule, now: Duration, delay: Duration) -> UInt64 {
        nextID += 1
        entries[nextID] = Entry(beat: beat, schedule: schedule, due: now + delay, delay: delay)
        return nextID
    }

    /// Removes a task (it ended, or the service said it is gone).
    @discardableResult
    mutating func remove(_ id: UInt64) -> Entry? {
        entries.removeValue(forKey: id)
    }

    /// Every heartbeat due at `now`, marked as on its way.
    mutating func takeDue(now: Duration) -> [Send] {
        var sends: [Send] = []
        for (id, entry) in entries {
            guard let due = entry.due, due <= now else { continue }
            entries[id]!.due = nil
            entries[id]!.sinceAcknowledged += entry.delay
            let left = entry.schedule.interval - entries[id]!.sinceAcknowledged
            sends.append(Send(id: id, beat: entry.beat, within: max(left, .zero)))
        }
        return sends
    }

    /// A heartbeat came back (`acknowledged`: the service took it); the next is due `delay` after
    /// `now`. Returns that due time, or nil if the task is no longer here.
    mutating func answered(_ id: UInt64, acknowledged: Bool, now: Duration, delay: Duration) -> Duration? {
        guard entries[id] != nil else { return nil }
        if acknowledged { entries[id]!.sinceAcknowledged = .zero }
        entries[id]!.due = now + delay
        entries[id]!.delay = delay
        return now + delay
    }
}

extension HeartbeatTimetable: Sendable where Beat: Sendable {}
extension HeartbeatTimetable.Entry: Sendable where Beat: Sendable {}
extension HeartbeatTimetable.Send: Sendable where Beat: Sendable {}
