#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A thread of its own for work that must not run on Swift's pool (a handler's spawn, I/O loop
/// and reap: its `PR_SET_PDEATHSIG` follows the spawning thread). A detached pthread with the
/// default attributes, as `Foundation.Thread` starts, without linking Foundation.
package enum DetachedThread {
    /// Runs `body` on a new detached thread named `name` (at most 15 bytes, or the kernel refuses
    /// the name and the thread keeps its process's).
    package static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemCallError) {
        let status = create(Context(name: name, body: body))
        guard status == 0 else { throw SystemCallError(call: "pthread_create", errno: status) }
    }

    /// pthread_create's status; the thread owns `context` once it has started.
    private static func create(_ context: Context) -> Int32 {
        let retained = Unmanaged.passRetained(context)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, DetachedThread.run, retained.toOpaque())
        pthread_attr_destroy(&attributes)
        if status != 0 { retained.release() }
        return status
    }

    private static let run: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { raw in
        guard let raw else { return nil }
        let context = Unmanaged<Context>.fromOpaque(raw).takeRetainedValue()
        nameThisThread(context.name)
        context.body()
        return nil
    }

    /// `pthread_setname_np`, which Glibc's header declares only for `_GNU_SOURCE` (so the Glibc
    /// module lacks it), hence the lookup, once. Best effort: without it, or with a name the
    /// kernel refuses, the thread keeps its process's name.
    private static func nameThisThread(_ name: String) {
        guard let setName else { return }
        _ = setName(pthread_self(), name)
    }

    private typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>?) -> Int32
    private static let setName: SetName? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_setname_np")
        .map { unsafeBitCast($0, to: SetName.self) }

    private final class Context: Sendable {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}
