"""The 2025 commune list as a gazetteer: counts, naming conventions, same-name resolution."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

from commune_metrics.extract import gazetteer as gz


def test_counts_match_the_2025_list() -> None:
    communes = gz.all_communes()
    assert len(communes) == 3321
    assert len({c.ward_code for c in communes}) == 3321
    assert len({c.province_code for c in communes}) == 34
    assert len({c.province for c in communes}) == 34
    assert Counter(c.division_type for c in communes).keys() == {"xã", "phường", "đặc khu"}


def test_names_drop_the_division_word_and_provinces_follow_the_gold_convention() -> None:
    communes = gz.all_communes()
    assert all(not c.name.lower().startswith(("xã ", "phường ", "đặc khu ")) for c in communes)
    assert all(c.full_name.endswith(c.name) and c.full_name != c.name for c in communes)
    provinces = {c.province for c in communes}
    assert {"Thành phố Hải Phòng", "Quảng Trị", "Quảng Ngãi", "Thành phố Hà Nội"} <= provinces
    assert not any(p.startswith("Tỉnh") for p in provinces)
    assert all(c.in_city == c.province.startswith("Thành phố") for c in communes)


def test_duplicate_names_exist() -> None:
    with open(NESTED_DIVISIONS_JSON_PATH, encoding="utf-8") as fh:
        raw = Counter(w["name"] for p in json.load(fh) for w in p["wards"])
    assert sum(1 for n in raw.values() if n > 1) == 238
    # a few names in the package carry a doubled space; once collapsed they join their twins
    full_names = Counter(c.full_name for c in gz.all_communes())
    assert all("  " not in name for name in full_names)
    assert sum(1 for n in full_names.values() if n > 1) >= 238
    chi_minh = gz.lookup("Chí Minh")
    assert {c.province for c in chi_minh} == {"Thành phố Hải Phòng", "Hưng Yên"}
    assert len({c.ward_code for c in chi_minh}) == 2


def test_loaded_once_per_process() -> None:
    assert gz.gazetteer() is gz.gazetteer()
    assert gz.all_communes() is not gz.gazetteer().communes  # callers get a copy they may mutate


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Thanh Hoá", "thanh hóa"),
        ("THUỶ", "thủy"),
        ("Ủy ban", "ủy ban"),
        ("quý", "quý"),  # "qu" is a consonant: already new style
        ("hoàn thành", "hoàn thành"),  # closed syllable: tone stays on "a"
        ("khoẻ", "khỏe"),
    ],
)
def test_fold_moves_old_style_tones(raw: str, folded: str) -> None:
    assert gz.fold(raw) == folded


def test_name_key_ignores_case_dashes_and_apostrophes() -> None:
    assert gz.name_key("Chân Mây – Lăng Cô") == gz.name_key("chân mây lăng cô")
    assert gz.name_key("Ea H’leo") == gz.name_key("EA H'LEO")


def test_lookup_accepts_division_words_and_filters_by_them() -> None:
    assert gz.lookup("XÃ HƯỚNG PHÙNG") == gz.lookup("Hướng Phùng")
    assert gz.lookup("phường Hướng Phùng") == []
    assert gz.lookup("Nơi Không Có") == []


def test_resolve_unique_name_without_context() -> None:
    c = gz.resolve("xã Hướng Phùng", "")
    assert c is not None and c.province == "Quảng Trị" and c.ward_code == 19441


def test_resolve_old_tone_spelling() -> None:
    unique = Counter(gz.name_key(c.name) for c in gz.all_communes())
    target = next(c for c in gz.all_communes() if "Hòa" in c.name and unique[gz.name_key(c.name)] == 1)
    assert gz.resolve(target.name.replace("Hòa", "Hoà"), "") == target


def test_duplicate_unresolved_without_deciding_context() -> None:
    assert gz.resolve("Chí Minh", "") is None
    assert gz.resolve("Chí Minh", "Ủy ban nhân dân xã báo cáo kết quả chuyển đổi số.") is None


@pytest.mark.parametrize(
    ("context", "province"),
    [
        ("Thực hiện chỉ đạo của Thành ủy Hải Phòng về chuyển đổi số.", "Thành phố Hải Phòng"),
        ("Hệ thống thông tin giải quyết thủ tục hành chính tỉnh Hưng Yên vận hành ổn định.", "Hưng Yên"),
        ("Kính gửi: UBND TỈNH HƯNG YÊN", "Hưng Yên"),
        ("Theo Tỉnh uỷ Hưng Yên và Sở Nội vụ tỉnh Hưng Yên", "Hưng Yên"),
        # generic words only: a clear majority of "thành phố" points at the centrally-run city
        (
            "Đề nghị UBND thành phố hỗ trợ. Cổng dịch vụ công của thành phố. Sở KH&CN thành phố."
            " Thành ủy chỉ đạo; lớp tập huấn của tỉnh mới.",
            "Thành phố Hải Phòng",
        ),
        (
            "UBND tỉnh chỉ đạo. Phần mềm dùng chung của tỉnh. Tỉnh ủy giao nhiệm vụ. Sở Nội vụ tỉnh.",
            "Hưng Yên",
        ),
    ],
)
def test_duplicate_resolved_by_province_words(context: str, province: str) -> None:
    c = gz.resolve("Chí Minh", context)
    assert c is not None and c.province == province


@pytest.mark.parametrize(
    "context",
    [
        # both candidate provinces named as often: conflicting evidence
        "Phối hợp với tỉnh Hưng Yên và thành phố Hải Phòng.",
        # generic words without a clear majority
        "UBND thành phố và UBND tỉnh cùng chỉ đạo; cấp tỉnh, thành phố thông minh.",
        # a few generic words are not enough
        "UBND thành phố; phần mềm của tỉnh; dữ liệu của tỉnh; Tỉnh ủy chỉ đạo.",
        # "cấp tỉnh", "tỉnh, thành phố" do not point at the commune's own province
        "Kết nối hệ thống cấp tỉnh; các tỉnh, thành phố; cấp tỉnh; liên tỉnh.",
    ],
)
def test_duplicate_left_unresolved_when_evidence_is_weak(context: str) -> None:
    assert gz.resolve("Chí Minh", context) is None
