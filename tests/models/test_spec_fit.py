"""EncoderSpec.fit_problem: why an encoder cannot read a dataset's nodes, said before any embedding."""

from gtransfer.io.checkpoints import save_checkpoint
from gtransfer.models.specs import resolve_encoder


def test_fit_problems_name_the_encoder_the_dataset_and_the_mismatch(tmp_path):
    published = resolve_encoder("published:gcn_contextpred")
    assert published.node_input == "hu2020"
    assert published.fit_problem("ogbg-molbace", "molecule") is None
    assert published.fit_problem("MUTAG", "tu", num_features=7) == (
        "published:gcn_contextpred reads molecule atoms (hu2020 features) and MUTAG has float node features (7 per "
        "node); use a random:ARCH encoder or one trained on MUTAG's features"
    )
    assert (
        resolve_encoder("random:gin").fit_problem("MUTAG", "tu", num_features=7) is None
    )  # built for the target's input

    encoder = resolve_encoder("random:gin:layers=1,dim=8").load(node_features=7)
    path = save_checkpoint(tmp_path / "gin7.pt", encoder.state_dict(), {"architecture": encoder.config})
    float_encoder = resolve_encoder(str(path))
    assert float_encoder.node_input == 7
    assert float_encoder.fit_problem("MUTAG", "tu", num_features=7) is None
    assert (
        float_encoder.fit_problem("ENZYMES", "tu", num_features=21)
        == "gin7.pt reads 7 float features per node and ENZYMES has 21"
    )
    assert float_encoder.fit_problem("ogbg-molbace", "molecule") == (
        "gin7.pt reads 7 float features per node and ogbg-molbace is a molecule dataset (atom categories)")
