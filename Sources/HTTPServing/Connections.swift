import NIOCore
import NIOHTTP1
import Synchronization

/// Every accepted connection's task, until it ends, and the count the cap is checked against.
final class Connections: Sendable {
    typealias Connection = HTTPListener.Connection

    /// A place under the cap, taken before a connection is set up.
    struct Ticket: Sendable {
        fileprivate let id: Int
    }

    private struct State {
        var shutDown = false
        var next = 0
        /// Connections counted against the cap: reserved, being served, or not yet settled.
        var open = 0
        var running: [Int: Task<Void, Never>] = [:]
        /// Tasks that ended before they were filed under `running`.
        var ended: Set<Int> = []
    }

    private let serve: @Sendable (Connection) async -> Void
    private let maxConnections: Int
    private let state = Mutex(State())

    init(serve: @escaping @Sendable (Connection) async -> Void, maxConnections: Int) {
        self.serve = serve
        self.maxConnections = maxConnections
    }

    var count: Int { state.withLock { $0.open } }

    /// A place under the cap, or nil when `maxConnections` are open.
    func reserve() -> Ticket? {
        state.withLock { state in
            guard state.open < maxConnections else { return nil }
            state.open += 1
            defer { state.next += 1 }
            return Ticket(id: state.next)
        }
    }

    /// A reserved place that was not used (the connection was refused or could not be set up).
    func unreserve(_ ticket: Ticket) {
        state.withLock { $0.open -= 1 }
    }

    /// Called on the connection's event loop, before it is active: serves it in a task of its
    /// own (closes it at once after `shutdown`).
    func accept(_ connection: Connection, ticket: Ticket) {
        let id = ticket.id
        let open = state.withLock { !$0.shutDown }
        let serve = self.serve
        let task = Task {
            if open {
                await serve(connection)
            } else {
                try? await connection.executeThenClose { _, _ in }
            }
            self.state.withLock { state in
                state.open -= 1
                if state.running.removeValue(forKey: id) == nil { state.ended.insert(id) }
            }
        }
        let cancel = state.withLock { state in
            if state.ended.remove(id) == nil { state.running[id] = task }
            return state.shutDown
        }
        if cancel { task.cancel() }
    }

    /// Cancels every connection's task, and any handed over meanwhile, and returns once none is
    /// left.
    func shutdown() async {
        state.withLock { $0.shutDown = true }
        while true {
            let tasks = state.withLock { Array($0.running.values) }
            if tasks.isEmpty { return }
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
    }

    func waitForAll() async {
        while true {
            let tasks = state.withLock { Array($0.running.values) }
            if tasks.isEmpty { return }
            for task in tasks { await task.value }
        }
    }
}
