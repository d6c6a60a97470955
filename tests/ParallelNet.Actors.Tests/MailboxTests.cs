using System.Threading.Channels;
using ParallelNet.Actors.Internal;

namespace ParallelNet.Actors.Tests;

public sealed class MailboxTests
{
    [Fact]
    public void The_user_queue_can_peek_which_the_idle_check_needs_to_see_a_message_that_raced_with_going_idle()
    {
        ChannelReader<Envelope> reader = Channel.CreateUnbounded<Envelope>(Mailbox.UserQueueOptions).Reader;
        Assert.True(reader.CanPeek);
    }
}
