"""Vision encoders: penultimate-layer embeddings, residual identity, batch independence, trainability."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gtransfer.vision.data import torchvision_available
from gtransfer.vision.models import BasicBlock, SmallCNN, SmallResNet, build_encoder, load_torchvision_encoder


def test_resnet_embedding_shape_and_batch_independence():
    torch.manual_seed(0)
    model = SmallResNet(widths=(8, 16, 24)).eval()
    x = torch.randn(5, 3, 32, 32)
    z = model.embed(x)
    assert model.embedding_dim == 24 and z.shape == (5, 24)
    # eval-mode embeddings of a batch are those of each image alone
    single = torch.cat([model.embed(x[i : i + 1]) for i in range(5)])
    torch.testing.assert_close(z, single, rtol=1e-5, atol=1e-6)
    assert torch.all(z >= 0), "pooled ReLU features are non-negative"
    # pooling: the embedding is the spatial mean of the last stage
    torch.testing.assert_close(z, model.stages(model.stem(x)).mean(dim=(2, 3)))


def test_basic_block_reduces_to_relu_of_input_when_its_branch_is_zero():
    block = BasicBlock(4, 4).eval()
    nn.init.zeros_(block.bn2.weight)  # the residual branch then outputs bn2's bias, 0
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(block(x), torch.relu(x))
    strided = BasicBlock(4, 8, stride=2)
    assert strided(x).shape == (2, 8, 3, 3) and not isinstance(strided.shortcut, nn.Identity)


def test_cnn_embedding_is_the_penultimate_relu_layer():
    torch.manual_seed(1)
    model = SmallCNN(width=4, embedding_dim=32).eval()
    x = torch.randn(3, 1, 28, 28)
    z = model.embed(x)
    assert z.shape == (3, 32) and model.embedding_dim == 32
    flat = model.features(x).flatten(1)
    assert flat.shape == (3, 2 * 4 * 7 * 7)
    torch.testing.assert_close(z, torch.relu(flat @ model.fc.weight.T + model.fc.bias))


@pytest.mark.parametrize("arch,config,shape", [
    ("resnet", {"widths": [4, 8], "in_channels": 1}, (1, 16, 16)),
    ("cnn", {"width": 4, "embedding_dim": 16}, (1, 28, 28)),
])
def test_encoders_learn_a_separable_task(arch, config, shape):
    """An encoder plus a linear head fits bright-vs-dark images: gradients reach the encoder through embed."""
    torch.manual_seed(0)
    encoder = build_encoder(arch, **config)
    head = nn.Linear(encoder.embedding_dim, 2)
    y = torch.arange(32) % 2
    x = torch.randn(32, *shape) * 0.3 + (y.float() * 2 - 1).view(-1, 1, 1, 1) * 0.5
    optimiser = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=1e-2)
    before = [p.detach().clone() for p in encoder.parameters()]
    for _ in range(30):
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(head(encoder.embed(x)), y)
        loss.backward()
        optimiser.step()
    encoder.eval()
    assert (head(encoder.embed(x)).argmax(1) == y).float().mean().item() == 1.0
    assert any(not torch.equal(a, b) for a, b in zip(before, encoder.parameters()))


def test_encoders_validate_config_and_inputs():
    with pytest.raises(ValueError, match="SmallResNet: in_channels"):
        SmallResNet(in_channels=2)
    with pytest.raises(ValueError, match="SmallResNet: widths"):
        SmallResNet(widths=())
    with pytest.raises(ValueError, match="SmallCNN: input_size"):
        SmallCNN(input_size=30)
    with pytest.raises(ValueError, match=r"expected \(B, 1, 28, 28\)"):
        SmallCNN().embed(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"expected \(B, 3, H, W\)"):
        SmallResNet().embed(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="unknown vision architecture"):
        build_encoder("vit")


def test_build_encoder_round_trips_config():
    model = SmallResNet(widths=(8, 16), blocks=2)
    rebuilt = build_encoder("resnet", **model.config)
    assert rebuilt.config == model.config
    rebuilt.load_state_dict(model.state_dict())  # same architecture, same parameter names and shapes


def test_torchvision_encoders_need_torchvision(tmp_path):
    if torchvision_available():
        encoder = load_torchvision_encoder("resnet18", input_size=64)
        assert encoder.embedding_dim == 512
        assert encoder.embed(torch.zeros(1, 3, 64, 64)).shape == (1, 512)
        with pytest.raises(FileNotFoundError):
            load_torchvision_encoder("resnet18", weights_path=tmp_path / "missing.pt")
    else:
        with pytest.raises(ImportError, match="torchvision is not importable"):
            load_torchvision_encoder("resnet18", weights_path=tmp_path / "weights.pt")
