public import StepFunctions
import Synchronization

/// Jitter that returns the given numbers in turn, then the last one forever, so backoff delays
/// are known in advance.
public final class FixedJitter: JitterSource {
    private let values: Mutex<[Double]>

    public init(_ values: Double...) {
        self.values = Mutex(values.isEmpty ? [0] : values)
    }

    public func next() -> Double {
        values.withLock { values in values.count > 1 ? values.removeFirst() : values[0] }
    }
}
