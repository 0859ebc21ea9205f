import Foundation

/// Syncs a file to disk ahead of the fsync that durability needs, so that one finds little left.
///
/// An import is one transaction. SQLite writes its pages to the WAL as its cache fills; the
/// commit's fsync of the WAL and then the automatic checkpoint's fsync of the database file
/// (after copying the WAL into it) each took 0.2–0.3 s at the end of a 1,000,000-event import,
/// with both cores idle. Asking the kernel to start write-back early (`sync_file_range`) did
/// not shorten them: on this machine's virtual disk the time is in the flush itself. Syncing
/// early from a thread that can wait does: the writer thread syncs the WAL every few MB, and
/// during the commit a `SyncLoop` syncs both files. Only extra syncs: SQLite's own are unchanged.
final class EarlySync: @unchecked Sendable {
    private let descriptor: Int32

    /// Opens `path` to sync it; nil when it cannot be opened (the early syncs are then skipped).
    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Syncs the file's data now; errors are left to SQLite's own sync to meet and report.
    func sync() {
        _ = fdatasync(descriptor)
    }
}

/// Syncs some files early (`EarlySync`) every `interval` on a thread of its own until `stop`:
/// for the length of a commit, whose last WAL frames and whose checkpoint copy into the
/// database file each end in an fsync.
final class SyncLoop: @unchecked Sendable {
    private let files: [EarlySync]
    private let interval: TimeInterval
    private let condition = NSCondition()
    private var stopping = false
    private var exited = false

    /// Starts the loop over the files of `paths` that can be opened.
    init(paths: [String], interval: TimeInterval) {
        files = paths.compactMap(EarlySync.init(path:))
        self.interval = interval
        let thread = Thread { [self] in run() }
        thread.name = "packledger-sync"
        thread.start()
    }

    private func run() {
        condition.lock()
        while !stopping {
            _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
            if stopping { break }
            condition.unlock()
            for file in files { file.sync() }
            condition.lock()
        }
        exited = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the loop and waits for its thread to finish.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }
}
