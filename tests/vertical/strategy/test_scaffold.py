import pytest

from vertical.core.errors import SpecError
from vertical.core.spec import load_domain
from vertical.strategy.scaffold import scaffold_domain


def test_init_creates_a_valid_domain(tmp_path):
    target = tmp_path / "my-law"
    created = scaffold_domain(target)
    assert target / "domain.yaml" in created
    spec = load_domain(target)
    assert spec.name == "my-law"
    assert (target / "docs" / "about.md").is_file()
    assert spec.path(spec.data.datasets[0].file).is_file()


def test_init_refuses_to_overwrite_and_keeps_user_files(tmp_path):
    scaffold_domain(tmp_path / "dom")
    doc = tmp_path / "dom" / "docs" / "about.md"
    doc.write_text("my own notes")
    with pytest.raises(SpecError, match="--force"):
        scaffold_domain(tmp_path / "dom")
    scaffold_domain(tmp_path / "dom", force=True)
    assert doc.read_text() == "my own notes"
