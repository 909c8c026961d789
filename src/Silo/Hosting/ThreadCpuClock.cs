using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Federation.Silo.Hosting;

/// <summary>
/// CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID), for benchmark figures that must not count time a
/// thread spent waiting for a core: on a busy 2-core host, wall time would. Elsewhere it falls back to wall time.
/// </summary>
public static class ThreadCpuClock
{
    private const int ClockThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(ClockThreadCpuTime, out _) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Seconds of CPU the calling thread has used (or a wall-clock reading where that is unavailable).</summary>
    public static double Now()
    {
        if (Available && ClockGetTime(ClockThreadCpuTime, out var t) == 0)
            return t.Seconds + t.Nanoseconds * 1e-9;
        return Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
    }

    /// <summary>Runs <paramref name="work"/> and returns its result with the CPU seconds it took on this thread.</summary>
    public static (T Result, double CpuSeconds) Measure<T>(Func<T> work)
    {
        double start = Now();
        T result = work();
        return (result, Now() - start);
    }
}

/// <summary>Runs work on the thread pool and adds up the CPU seconds it took there (thread-safe).</summary>
public sealed class CpuMeter
{
    private double _seconds;
    private readonly Lock _lock = new();

    public double Seconds
    {
        get
        {
            lock (_lock)
                return _seconds;
        }
    }

    public async Task<T> Run<T>(Func<T> work)
    {
        var (result, cpu) = await Task.Run(() => ThreadCpuClock.Measure(work));
        lock (_lock)
            _seconds += cpu;
        return result;
    }

    public Task Run(Action work) => Run(() =>
    {
        work();
        return true;
    });
}
