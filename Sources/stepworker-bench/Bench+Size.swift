import Foundation

extension Bench {
    /// Issue 12's size targets: the binary stripped as scripts/build-deb.sh strips it for the
    /// .deb (the same flags; that script names this file too), and the newest .deb `make deb`
    /// left in dist/ (none: the row says so). MB are 10^6 bytes, the stricter reading.
    mutating func addSizeTargets() {
        let stripped = root + "/stepworker.stripped"
        let strip = Process()
        strip.executableURL = URL(fileURLWithPath: "/usr/bin/strip")
        strip.arguments = ["--remove-section=.comment", "--remove-section=.note", "-o", stripped, options.binary]
        strip.standardError = FileHandle.nullDevice
        var strippedSize: Int?
        if (try? strip.run()) != nil {
            strip.waitUntilExit()
            if strip.terminationStatus == 0 { strippedSize = Self.fileSize(stripped) }
        }
        if let size = strippedSize {
            targets.add("stripped binary (as the .deb ships it)", Self.decimalMegabytes(size), "<= 30 MB", size <= 30_000_000 ? "met" : "missed")
        } else {
            targets.add("stripped binary (as the .deb ships it)", "strip failed", "<= 30 MB", "")
        }
        let dist = "dist"
        let debs = ((try? FileManager.default.contentsOfDirectory(atPath: dist)) ?? [])
            .filter { $0.hasPrefix("stepworker_") && $0.hasSuffix(".deb") }
            .compactMap { name -> (name: String, size: Int, date: Date)? in
                let path = dist + "/" + name
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                      let size = attributes[.size] as? Int, let date = attributes[.modificationDate] as? Date else { return nil }
                return (name, size, date)
            }
        if let deb = debs.max(by: { $0.date < $1.date }) {
            targets.add(".deb (\(deb.name))", Self.decimalMegabytes(deb.size), "<= 8 MB", deb.size <= 8_000_000 ? "met" : "missed")
        } else {
            targets.add(".deb", "none in dist/ (make deb)", "<= 8 MB", "")
        }
    }

    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
    }

    static func decimalMegabytes(_ bytes: Int) -> String {
        format(Double(bytes) / 1_000_000, 1) + " MB"
    }
}
