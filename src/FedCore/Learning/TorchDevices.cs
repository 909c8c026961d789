using TorchSharp;

namespace FedCore.Learning;

/// <summary>
/// Process-wide choices about where Torch computes: the device (CUDA when the CUDA build of libtorch is
/// referenced and a GPU is visible, else CPU) and the CPU intra-op thread count. The host sets these once
/// at start-up; trainer and evaluator read <see cref="Current"/>.
/// </summary>
public static class TorchDevices
{
    private static readonly Lazy<bool> CudaPresent = new(torch.cuda.is_available);
    private static volatile bool cudaAllowed = true;

    /// <summary>True when libtorch reports a usable CUDA device.</summary>
    public static bool CudaAvailable => CudaPresent.Value;

    /// <summary>Lets a host keep work on the CPU even where CUDA exists (default: allowed).</summary>
    public static bool CudaAllowed
    {
        get => cudaAllowed;
        set => cudaAllowed = value;
    }

    /// <summary>The device new models and data are placed on.</summary>
    public static torch.Device Current => CudaAllowed && CudaAvailable ? torch.CUDA : torch.CPU;

    /// <summary>Threads one CPU operation may use. Process-wide in libtorch.</summary>
    public static int IntraOpThreads => torch.get_num_threads();

    /// <summary>
    /// Sets the CPU intra-op thread count for the whole process. With several participants training at once
    /// on a small machine, a low count (even 1) avoids oversubscribing the cores.
    /// </summary>
    public static void SetIntraOpThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        torch.set_num_threads(threads);
    }
}
