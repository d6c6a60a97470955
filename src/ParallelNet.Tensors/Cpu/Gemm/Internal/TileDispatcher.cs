namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// A persistent parallel-for over the output tiles of one product: long-lived background threads
/// wait on a semaphore, the calling thread works too, and tiles are handed out by an atomic counter.
/// Which thread computes a tile never changes its arithmetic, so scheduling needs no determinism.
/// One product runs on the helpers at a time; a concurrent caller computes its product on its own
/// thread instead of queueing behind (same result, no deadlock, no allocation).
/// </summary>
internal sealed unsafe class TileDispatcher
{
    private static readonly TileDispatcher Shared = new();

    private readonly Lock gate = new();
    private readonly SemaphoreSlim start = new(0);
    private readonly ManualResetEventSlim finished = new(false, spinCount: 2000);
    private readonly List<Thread> helpers = [];
    private GemmProblem problem;
    private int nextTile;
    private int runningHelpers;
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

    private void RunWithHelpers(in GemmProblem work, int helperCount)
    {
        while (helpers.Count < helperCount)
        {
            var thread = new Thread(HelperLoop) { IsBackground = true, Name = $"gemm-helper-{helpers.Count + 1}" };
            helpers.Add(thread);
            thread.Start();
        }
        problem = work;
        nextTile = 0;
        helperFailure = null;
        runningHelpers = helperCount;
        finished.Reset();
        start.Release(helperCount);
        DrainTiles();
        finished.Wait();
        problem = default;
        if (helperFailure is { } failure)
            throw new InvalidOperationException("A GEMM helper thread failed; see the inner exception.", failure);
    }

    private void HelperLoop()
    {
        while (true)
        {
            start.Wait();
            try
            {
                DrainTiles();
            }
            catch (Exception exception)
            {
                helperFailure ??= exception;
            }
            if (Interlocked.Decrement(ref runningHelpers) == 0) finished.Set();
        }
    }

    private void DrainTiles()
    {
        GemmWorkspace workspace = GemmWorkspace.ForCurrentThread();
        int tileCount = problem.Plan.TileCount;
        int tile;
        while ((tile = Interlocked.Increment(ref nextTile) - 1) < tileCount)
            GemmDriver.RunTile(problem, tile, workspace);
    }
}
