namespace ParallelNet.Actors.Internal;

/// <summary>The parent of every actor made by ActorSystem.ActorOf (path /user); it supervises them with the default strategy.</summary>
internal sealed class GuardianActor : ReceiveActor;
