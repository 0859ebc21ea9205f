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
    /// frees whatever is left: each result exactly once, none while it can still be read.
    @Test func retiredResultsAreFreedByTheThreadThatMadeThem() {
        let reclaimer = Reclaimer()
        let log = FreeLog()
        let first = SharedMap(Array(0..<4_096), reclaimer: reclaimer) { i throws(LedgerError) in Tracked(i, log) }
        first.startHelpers(1)
        first.finish()
        #expect((0..<first.count).allSatisfy { (try? first.result($0).get())?.value == $0 })
        first.retire()
        #expect(log.frees.isEmpty, "freed before the threads that made them mapped again")
        let second = SharedMap(Array(0..<4_096), reclaimer: reclaimer) { i throws(LedgerError) in Tracked(i, log) }
        second.startHelpers(1)
        second.finish()
        let early = log.frees
        // This thread mapped some of the first map's blocks and the second's, so it freed its own.
        #expect(!early.isEmpty)
        #expect(early.allSatisfy { $0.made == $0.freed }, "a result was freed by a thread that did not make it")
        second.retire()
        reclaimer.collectAll()
        #expect(log.frees.count == 8_192)
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
