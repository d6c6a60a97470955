using ParallelNet.Actors;
using ParallelNet.Training.Actors;

namespace ParallelNet.Cluster.Training;

/// <summary>
/// The coordinator node's front desk at <see cref="Path"/>: worker nodes ask it which job runs
/// (<see cref="RequestJobContext"/>); it forwards the question to the coordinator of the oldest running job,
/// which answers with a <see cref="JobContext"/>, or answers <see cref="NoJobRunning"/> itself.
/// </summary>
public sealed class JobDesk : ReceiveActor
{
    public const string Name = "job-desk";
    public const string Path = "/user/" + Name;

    private readonly List<IActorRef> _running = [];

    private JobDesk()
    {
        Receive<RequestJobContext>(request =>
        {
            if (_running.Count == 0) Sender.Tell(new NoJobRunning("No job is running on this coordinator."), Self);
            else _running[0].Forward(request, Context);
        });
        Receive<JobOpened>(opened => _running.Add(opened.Coordinator));
        Receive<JobClosed>(closed => _running.Remove(closed.Coordinator));
    }

    public static Props Props() => ParallelNet.Actors.Props.Create(() => new JobDesk());

    /// <summary>A job's coordinator is running and takes registrations.</summary>
    public sealed record JobOpened(IActorRef Coordinator);

    public sealed record JobClosed(IActorRef Coordinator);
}
