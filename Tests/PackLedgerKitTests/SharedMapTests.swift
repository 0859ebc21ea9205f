import Foundation
import Synchronization
import Testing
@testable import PackLedgerKit

/// The parallel map behind import and verify: every item is mapped exactly once, results come
/// back in item order with each item's own failure, whether the pool's helpers, the waiting
/// thread, or both do the work.
@Suite("Shared parallel map") struct SharedMapTests {
    /// Maps `0..<count` to `i * 3`, failing on multiples of 97, and counts the calls.
    private func map(_ count: Int, helpers: Int, slow: Bool = false) -> (results: [Result<Int, LedgerError>], calls: Int) {
        let calls = Atomic<Int>(0)
        let shared = SharedMap(Array(0..<count)) { i throws(LedgerError) -> Int in
            calls.wrappingAdd(1, ordering: .relaxed)
            if slow { usleep(50) }
            if i % 97 == 96 { throw LedgerError(.integrity, "item \(i)") }
            return i * 3
        }
        shared.startHelpers(helpers)
        let results = shared.results()
        return (results, calls.load(ordering: .relaxed))
    }

    private func check(_ results: [Result<Int, LedgerError>], _ count: Int) {
        #expect(results.count == count)
        for (i, result) in results.enumerated() {
            switch result {
            case .success(let value): #expect(i % 97 != 96 && value == i * 3, "item \(i)")
            case .failure(let error): #expect(i % 97 == 96 && error.reason == "item \(i)", "item \(i): \(error)")
            }
        }
    }

    @Test(arguments: [0, 1, 7, 8, 9, 1_000, 20_000])
    func everyItemOnceInOrderWithItsOwnFailure(count: Int) {
        for helpers in [0, 1, 3] {
            let (results, calls) = map(count, helpers: helpers)
            #expect(calls == count, "\(helpers) helpers")
            check(results, count)
        }
    }

    /// Helpers that are still mapping when the caller runs out of blocks to take: `results`
    /// must wait for their blocks, not return slots that are not yet written.
    @Test func waitsForBlocksOthersAreStillMapping() {
        for _ in 0..<20 {
            let (results, calls) = map(600, helpers: 2, slow: true)
            #expect(calls == 600)
            check(results, 600)
        }
    }

    /// What `verify` does when it stops at a fault: the rest of the next chunk is not decoded,
    /// and no helper is still mapping once `cancel` returns.
    @Test func cancelStopsTakingBlocksAndWaitsForTheOnesTaken() {
        for _ in 0..<20 {
            let calls = Atomic<Int>(0), running = Atomic<Int>(0)
            let shared = SharedMap(Array(0..<2_000)) { i throws(LedgerError) -> Int in
                running.wrappingAdd(1, ordering: .relaxed)
                calls.wrappingAdd(1, ordering: .relaxed)
                usleep(100)
                running.wrappingSubtract(1, ordering: .relaxed)
                return i
            }
            shared.startHelpers(2)
            usleep(2_000)
            shared.cancel()
            #expect(running.load(ordering: .relaxed) == 0)
            let after = calls.load(ordering: .relaxed)
            #expect(after < 2_000)
            usleep(5_000)
            #expect(calls.load(ordering: .relaxed) == after)
        }
    }

    @Test func parallelResultsKeepsOrderAndFailures() {
        let results = Ingest.parallelResults(Array(0..<5_000)) { i throws(LedgerError) -> Int in
            if i % 97 == 96 { throw LedgerError(.integrity, "item \(i)") }
            return i * 3
        }
        check(results, 5_000)
    }

    /// Retired results are freed by the thread that made them, when it maps again (so that no
    /// thread frees into another's malloc arena while that one allocates), and `collectAll`
    /// frees whatever is left. No helpers: which thread maps which block is then certain.
    @Test func retiredResultsAreFreedByTheThreadThatMadeThem() {
        let reclaimer = Reclaimer()
        let log = FreeLog()
        let me = Reclaimer.thread
        func map() -> SharedMap<Int, Tracked> {
            SharedMap(Array(0..<1_000), reclaimer: reclaimer) { i throws(LedgerError) in Tracked(i, log) }
        }
        // Mapped here, then retired: nothing is freed until this thread maps again.
        let here = map()
        here.finish()
        #expect((0..<here.count).allSatisfy { (try? here.result($0).get())?.value == $0 })
        here.retire()
        #expect(log.frees.isEmpty, "freed before the thread that made them mapped again")
        // Mapped on another thread, which never maps again.
        let there = map()
        let done = DispatchSemaphore(value: 0)
        Thread { there.finish(); done.signal() }.start()
        done.wait()
        there.retire()
        // Mapping again here frees this thread's own results, and only those.
        let again = map()
        again.finish()
        let early = log.frees
        #expect(early.count == 1_000)
        #expect(early.allSatisfy { $0.made == me && $0.freed == me })
        // The rest is freed when asked, wherever it was made.
        again.retire()
        reclaimer.collectAll()
        #expect(log.frees.count == 3_000)
        #expect(log.frees.filter { $0.made != me }.count == 1_000)
    }

    /// A thread that stops mapping keeps its retired results for one generation at most (an
    /// import retires one unit per generation): ending the next generation frees them on the
    /// calling thread, and leaves the generation just retired to its threads.
    @Test func endingAGenerationFreesWhatStragglersKept() {
        let reclaimer = Reclaimer()
        let log = FreeLog()
        let me = Reclaimer.thread
        // Each map's thread stays alive, idle, to the end: a thread that had exited could pass
        // its identity (`pthread_self`) on to the next one, which would then collect its parts.
        let release = DispatchSemaphore(value: 0)
        defer { release.signal(); release.signal() }
        func mapElsewhere() -> SharedMap<Int, Tracked> {
            let map = SharedMap(Array(0..<500), reclaimer: reclaimer) { i throws(LedgerError) in Tracked(i, log) }
            let done = DispatchSemaphore(value: 0)
            Thread { map.finish(); done.signal(); release.wait() }.start()
            done.wait()
            return map
        }
        let first = mapElsewhere()
        first.retire()
        reclaimer.endGeneration()
        #expect(log.frees.isEmpty, "the generation just retired was freed before its threads could")
        let second = mapElsewhere()
        second.retire()
        reclaimer.endGeneration()
        // The first map's threads never mapped again: its results are freed here, now.
        #expect(log.frees.count == 500)
        #expect(log.frees.allSatisfy { $0.freed == me && $0.made != me })
        reclaimer.collectAll()
        #expect(log.frees.count == 1_000)
    }
}

/// A result that records, when freed, which thread made it and which freed it.
private final class Tracked: Sendable {
    let value: Int
    let made = Reclaimer.thread
    let log: FreeLog

    init(_ value: Int, _ log: FreeLog) {
        self.value = value
        self.log = log
    }

    deinit { log.record(made: made, freed: Reclaimer.thread) }
}

private final class FreeLog: Sendable {
    private let entries = Mutex<[(made: UInt, freed: UInt)]>([])

    func record(made: UInt, freed: UInt) { entries.withLock { $0.append((made, freed)) } }
    var frees: [(made: UInt, freed: UInt)] { entries.withLock { $0 } }
}
