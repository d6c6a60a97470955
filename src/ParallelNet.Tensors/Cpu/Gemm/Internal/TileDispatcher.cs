using System.Diagnostics;

namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// A persistent parallel-for over the output tiles of one product: long-lived background helper
/// threads, the calling thread working too, tiles handed out by an atomic counter. Which thread
/// computes a tile never changes its arithmetic, so scheduling needs no determinism.
/// Helpers spin briefly after a product before they sleep, because training issues products
/// back to back and waking a sleeping thread costs more than a small product.
/// One product runs on the helpers at a time; a concurrent caller computes its product on its own
/// thread instead of queueing (same result, no deadlock, no allocation).
/// </summary>
internal sealed class TileDispatcher
{
    private static readonly TileDispatcher Shared = new();
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 microseconds

    private readonly Lock gate = new();
    private readonly object wakeUp = new();
    private readonly List<Thread> helpers = [];
    private GemmProblem problem;
    private int generation;
    private int open;
    private int participatingHelpers;
    private int nextTile;
    private int completedTiles;
    private int activeHelpers;
    private int sleepingHelpers;
    private Exception? helperFailure;

    public static void Run(in GemmProblem problem, int threads)
    {
        int participants = Math.Min(threads, problem.Plan.TileCount);
        if (participants <= 1 || !Shared.gate.TryEnter())
        {
            RunInline(problem);
            return;
        }
        try
        {
            Shared.RunWithHelpers(problem, participants - 1);
        }
        finally
        {
            Shared.gate.Exit();
        }
    }

    public static void RunInline(in GemmProblem problem)
    {
        GemmWorkspace workspace = GemmWorkspace.ForCurrentThread();
        for (int tile = 0; tile < problem.Plan.TileCount; tile++)
            GemmDriver.RunTile(problem, tile, workspace);
    }

    // The caller waits for tiles, not for helpers: on a loaded machine a helper may wake late, find
    // the product done, and leave. The open flag and the active count (both read and written with
    // full fences) make sure no late helper still touches a product once the caller returns.
    private void RunWithHelpers(in GemmProblem work, int helperCount)
    {
        while (helpers.Count < helperCount)
        {
            int index = helpers.Count;
            var thread = new Thread(() => HelperLoop(index)) { IsBackground = true, Name = $"gemm-helper-{index + 1}" };
            helpers.Add(thread);
            thread.Start();
        }
        problem = work;
        nextTile = 0;
        completedTiles = 0;
        helperFailure = null;
        participatingHelpers = helperCount;
        Interlocked.Exchange(ref open, 1);
        lock (wakeUp)
        {
            generation++;
            if (sleepingHelpers > 0) Monitor.PulseAll(wakeUp);
        }
        var spinner = new SpinWait();
        try
        {
            DrainTiles();
            while (Volatile.Read(ref completedTiles) < problem.Plan.TileCount) spinner.SpinOnce(sleep1Threshold: -1);
        }
        finally
        {
            // Also when this thread failed: no helper may touch the operands once the caller unpins them.
            Interlocked.Exchange(ref open, 0);
            while (Volatile.Read(ref activeHelpers) > 0) spinner.SpinOnce(sleep1Threshold: -1);
            problem = default;
        }
        if (helperFailure is { } failure)
            throw new InvalidOperationException("A GEMM helper thread failed; see the inner exception.", failure);
    }

    private void HelperLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            seen = WaitForNextGeneration(seen);
            if (index >= Volatile.Read(ref participatingHelpers)) continue;
            Interlocked.Increment(ref activeHelpers);
            if (Volatile.Read(ref open) == 1 && Volatile.Read(ref generation) == seen)
            {
                try
                {
                    DrainTiles();
                }
                catch (Exception exception)
                {
                    helperFailure ??= exception;
                }
            }
            Interlocked.Decrement(ref activeHelpers);
        }
    }

    private int WaitForNextGeneration(int seen)
    {
        long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
        while (Stopwatch.GetTimestamp() < spinUntil)
        {
            int current = Volatile.Read(ref generation);
            if (current != seen) return current;
            Thread.SpinWait(8);
        }
        lock (wakeUp)
        {
            sleepingHelpers++;
            while (generation == seen) Monitor.Wait(wakeUp);
            sleepingHelpers--;
            return generation;
        }
    }

    private void DrainTiles()
    {
        GemmWorkspace workspace = GemmWorkspace.ForCurrentThread();
        int tileCount = problem.Plan.TileCount;
        int tile;
        while ((tile = Interlocked.Increment(ref nextTile) - 1) < tileCount)
        {
            try
            {
                GemmDriver.RunTile(problem, tile, workspace);
            }
            finally
            {
                Interlocked.Increment(ref completedTiles);
            }
        }
    }
}
