using Grpc.Health.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace ParallelNet.Rpc;

/// <summary>
/// The serving status grpc.health.v1.Health reports, per service name ("" is the whole server).
/// The host sets it; Watch callers see every change.
/// </summary>
public sealed class HealthStatusRegistry
{
    private readonly object _gate = new();
    private readonly Dictionary<string, ServingStatus> _statuses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Action<ServingStatus>>> _watchers = new(StringComparer.Ordinal);

    public void SetStatus(string service, ServingStatus status)
    {
        ArgumentNullException.ThrowIfNull(service);
        List<Action<ServingStatus>>? toNotify;
        lock (_gate)
        {
            if (_statuses.TryGetValue(service, out var old) && old == status) return;
            _statuses[service] = status;
            toNotify = _watchers.TryGetValue(service, out var list) ? [.. list] : null;
        }
        toNotify?.ForEach(notify => notify(status));
    }

    /// <summary>The status of a service, or null if it was never set.</summary>
    public ServingStatus? GetStatus(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        lock (_gate) return _statuses.TryGetValue(service, out var status) ? status : null;
    }

    /// <summary>Sets every known service (and the server) to NOT_SERVING, as a server does when it starts shutting down.</summary>
    public void SetAllNotServing()
    {
        string[] services;
        lock (_gate) services = [.. _statuses.Keys];
        foreach (var service in services) SetStatus(service, ServingStatus.NotServing);
    }

    /// <summary>Subscribes to changes; returns the current status (SERVICE_UNKNOWN if never set) and an unsubscriber.</summary>
    internal (ServingStatus Current, IDisposable Subscription) Watch(string service, Action<ServingStatus> onChange)
    {
        lock (_gate)
        {
            if (!_watchers.TryGetValue(service, out var list)) _watchers[service] = list = [];
            list.Add(onChange);
            var current = _statuses.TryGetValue(service, out var status) ? status : ServingStatus.ServiceUnknown;
            return (current, new Unsubscriber(this, service, onChange));
        }
    }

    private sealed class Unsubscriber(HealthStatusRegistry registry, string service, Action<ServingStatus> onChange) : IDisposable
    {
        public void Dispose()
        {
            lock (registry._gate)
                if (registry._watchers.TryGetValue(service, out var list) && list.Remove(onChange) && list.Count == 0)
                    registry._watchers.Remove(service);
        }
    }
}
