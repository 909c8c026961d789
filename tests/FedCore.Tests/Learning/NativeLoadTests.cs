using TorchSharp;

namespace FedCore.Tests.Learning;

public class NativeLoadTests
{
    [Fact]
    public void TorchSharp_native_library_loads_on_this_machine()
    {
        using var t = torch.ones(3, 3);
        Assert.Equal(9f, t.sum().item<float>());
    }
}
