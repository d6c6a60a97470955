using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class ActorPathTests
{
    [Theory]
    [InlineData("pn://trainer/user/coordinator")]
    [InlineData("pn://trainer/user/coordinator/$3")]
    [InlineData("pn.tcp://cluster@10.0.0.7:2552/user/worker-1")]
    [InlineData("pn://trainer/")]
    public void Parse_reads_back_what_ToString_wrote(string text)
    {
        ActorPath path = ActorPath.Parse(text);
        Assert.Equal(text, path.ToString());
        Assert.Equal(path, ActorPath.Parse(path.ToString()));
    }

    [Fact]
    public void Parse_splits_a_remote_address_into_its_parts()
    {
        ActorPath path = ActorPath.Parse("pn.tcp://cluster@10.0.0.7:2552/user/worker-1");
        Assert.Equal(new Address("pn.tcp", "cluster", "10.0.0.7", 2552), path.Address);
        Assert.Equal(["user", "worker-1"], path.Elements);
        Assert.Equal("worker-1", path.Name);
        Assert.Equal("pn.tcp://cluster@10.0.0.7:2552/user", path.Parent!.ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("trainer/user", "protocol")]
    [InlineData("pn.tcp://cluster@host/user", "host:port")]
    [InlineData("pn.tcp://cluster@host:99999/user", "host:port")]
    [InlineData("pn:///user", "no system")]
    public void Parse_refuses_malformed_paths_and_says_why(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => ActorPath.Parse(text));
        Assert.Contains(reason, error.Message);
        Assert.False(ActorPath.TryParse(text, out _));
    }

    private sealed class Idle : ReceiveActor;

    [Fact]
    public async Task ActorOf_checks_names_and_places_actors_under_the_user_guardian()
    {
        await using var system = ActorSystem.Create("names");
        IActorRef named = system.ActorOf(Props.Create(() => new Idle()), "worker-1");
        Assert.Equal("pn://names/user/worker-1", named.Path.ToString());
        Assert.StartsWith("pn://names/user/$", system.ActorOf(Props.Create<Idle>()).Path.ToString());

        var duplicate = Assert.Throws<InvalidActorNameException>(() => system.ActorOf(Props.Create(() => new Idle()), "worker-1"));
        Assert.Contains("not unique", duplicate.Message);
        var reserved = Assert.Throws<InvalidActorNameException>(() => system.ActorOf(Props.Create(() => new Idle()), "$mine"));
        Assert.Contains("reserved", reserved.Message);
        var slash = Assert.Throws<InvalidActorNameException>(() => system.ActorOf(Props.Create(() => new Idle()), "a/b"));
        Assert.Contains("'/'", slash.Message);
        Assert.Throws<ArgumentException>(() => ActorSystem.Create("bad name"));

        // The name is free again once its actor has stopped.
        Assert.True(await named.GracefulStop(TestProbe.DefaultWait));
        IActorRef again = system.ActorOf(Props.Create(() => new Idle()), "worker-1");
        Assert.NotSame(named, again);
        Assert.Equal(named.Path, again.Path);
    }

    [Fact]
    public async Task Messages_to_Nobody_and_dead_letters_are_published_as_DeadLetter()
    {
        await using var system = ActorSystem.Create("nobody");
        var probe = new TestProbe(system);
        system.EventStream.Subscribe(probe, typeof(DeadLetter));
        system.Nobody.Tell("hello", probe);
        DeadLetter letter = await probe.ExpectMsgAsync<DeadLetter>();
        Assert.Equal("hello", letter.Message);
        Assert.Same(system.Nobody, letter.Recipient);
        Assert.Same(probe, letter.Sender);
        Assert.Equal("pn://nobody/deadLetters", system.DeadLetters.Path.ToString());
    }
}
