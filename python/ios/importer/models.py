"""torchvision models as the importer's tests, benchmark and pipeline use them:
random initialisation (``weights=None``), randomised batch-norm running
statistics and affine parameters (so folding them is exercised), eval mode.

``MODELS`` lists the families the importers are checked on; inputs are
3x224x224 (Inception V3: 3x299x299).
"""

MODELS = ["googlenet", "inception_v3", "squeezenet1_0", "squeezenet1_1", "resnet18",
          "resnet50", "mobilenet_v2", "mobilenet_v3_small", "densenet121", "efficientnet_b0",
          "shufflenet_v2_x0_5"]


def randomise_batch_norms(module, seed=0):
    """Random running statistics and affine parameters for every batch norm."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                    m.bias.copy_(torch.randn(c, generator=gen) * 0.2)


def torchvision_model(name, batch=1, seed=0):
    """``(model, input)``: torchvision ``name`` in eval mode and a standard
    normal input of batch ``batch``, both from ``seed``."""
    import torch
    import torchvision
    if not hasattr(torchvision.models, name):
        raise ValueError(f"torchvision has no model {name!r}")
    torch.manual_seed(seed)
    model = getattr(torchvision.models, name)(weights=None).eval()
    randomise_batch_norms(model, seed)
    size = 299 if name == "inception_v3" else 224
    x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))
    return model, x
