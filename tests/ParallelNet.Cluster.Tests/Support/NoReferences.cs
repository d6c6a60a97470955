using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;

namespace ParallelNet.Cluster.Tests.Support;

/// <summary>Wire references for payloads that carry no actor references (codec-level tests).</summary>
internal sealed class NoReferences : IWireReferences
{
    public string WirePathOf(IActorRef actor) => actor.Path.ToString();
    public IActorRef Resolve(string wirePath) => throw new NotSupportedException();
}
