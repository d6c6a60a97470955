using ParallelNet.Actors;
using ParallelNet.Training.Actors.Internal;

namespace ParallelNet.Training.Actors;

// Workers that join at runtime (cluster nodes): job context, registration, and the bounded wait for
// enough workers at the start or after every worker was lost.
public sealed partial class Coordinator
{
    private const string WorkerWaitTimer = "worker-wait";
    private bool _waitingForWorkers;

    private void ReceiveRegistrations()
    {
        Receive<RequestJobContext>(_ => Sender.Tell(_done
            ? new NoJobRunning($"Job '{_jobId}' has ended.")
            : new JobContext(_jobId, _options, _settings.DataSource, Self, _parameterServer), Self));
        Receive<RegisterWorker>(OnRegisterWorker, m => m.JobId == _jobId);
        Receive<RegisterWorker>(m => Sender.Tell(new WorkerRefused(m.JobId, $"This coordinator runs job '{_jobId}', not '{m.JobId}'."), Self));
        Receive<WorkerWaitTimedOut>(OnWorkerWaitTimedOut);
    }

    private void OnRegisterWorker(RegisterWorker registration)
    {
        if (_done)
        {
            Sender.Tell(new WorkerRefused(_jobId, $"Job '{_jobId}' has ended."), Self);
            return;
        }
        if (_workers.FirstOrDefault(w => w.Live && w.Actor.Equals(registration.Worker)) is { } known)
        {
            Sender.Tell(new WorkerRegistered(_jobId, known.Index), Self);
            return;
        }
        int live = Live.Count();
        if (live >= _settings.MaxWorkers)
        {
            Sender.Tell(new WorkerRefused(_jobId, $"Job '{_jobId}' already has {live} workers, its maximum."), Self);
            return;
        }
        var slot = new WorkerSlot(_workers.Count, registration.Worker);
        _workers.Add(slot);
        Context.Watch(slot.Actor);
        Sender.Tell(new WorkerRegistered(_jobId, slot.Index), Self);
        if (_requester is not null) Report(slot, WorkerStatus.Joined); // before the start, Start reports every worker
        if (!_waitingForWorkers) return; // otherwise it takes part from the next planned step
        int needed = _samplesThisRun == 0 ? _settings.MinWorkers : 1;
        if (live + 1 < needed) return;
        _waitingForWorkers = false;
        Timers.Cancel(WorkerWaitTimer);
        _observer.OnNotice($"Job '{_jobId}' has {live + 1} live workers and goes on.");
        if (_step is null) Continue();
        else ReissueOrphans();
    }

    /// <summary>Waits (bounded) for workers to register; false when this job does not wait, so the caller fails it.</summary>
    private bool WaitForWorkers(int live, int needed)
    {
        if (_settings.WorkerWaitTimeout <= TimeSpan.Zero) return false;
        if (_waitingForWorkers) return true;
        _waitingForWorkers = true;
        Timers.Cancel(StepTimer); // a stalled step's blocks wait for a worker, not for the step timeout
        Timers.StartSingleTimer(WorkerWaitTimer, new WorkerWaitTimedOut(needed), _settings.WorkerWaitTimeout);
        _observer.OnNotice($"Job '{_jobId}' has {live} live workers and needs {needed}; waiting up to {_settings.WorkerWaitTimeout.TotalSeconds:0.#} s for workers to register.");
        return true;
    }

    private void OnWorkerWaitTimedOut(WorkerWaitTimedOut timeout)
    {
        if (!_waitingForWorkers) return;
        _waitingForWorkers = false;
        int live = Live.Count();
        string message = $"Job '{_jobId}' waited {_settings.WorkerWaitTimeout.TotalSeconds:0.#} s for workers but has {live} of the {timeout.Needed} it needs; it stops here. " +
            "Start more workers and resume the job from its last checkpoint.";
        _observer.OnNotice(message);
        Fail(new TrainingException(message));
    }

    private sealed record WorkerWaitTimedOut(int Needed);
}
