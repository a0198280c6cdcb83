from nlp.normalize import normalize
from nlp.numerals import cn_to_arabic, convert_address_numerals


def test_traditional_to_simplified() -> None:
    assert "楼道" in normalize("樓道漏水")
    assert "电梯" in normalize("電梯壞了")


def test_full_width_to_half_width() -> None:
    assert normalize("８栋３单元") == "8栋3单元"
    assert "!" in normalize("漏水！")


def test_placeholders_emoji_mentions_removed() -> None:
    text = normalize("@王网格员 [图片][语音]楼道灯坏了😭😭👍")
    assert "[" not in text and "@" not in text and "王网格员" not in text
    assert "😭" not in text
    assert text == "楼道灯坏了"


def test_repeated_punctuation_collapsed() -> None:
    assert normalize("漏水!!!!!!") == "漏水!"
    assert normalize("怎么办???") == "怎么办?"


def test_filler_words_removed() -> None:
    assert normalize("嗯嗯那个那个楼道灯坏了") == "楼道灯坏了"


def test_cn_numerals() -> None:
    assert cn_to_arabic("十一") == "11"
    assert cn_to_arabic("二十三") == "23"
    assert cn_to_arabic("六零一") == "601"
    assert cn_to_arabic("六〇二") == "602"
    assert cn_to_arabic("十") == "10"
    assert cn_to_arabic("一百零一") == "101"


def test_address_numerals_only_in_address_context() -> None:
    assert convert_address_numerals("十一栋三单元六零一") == "11栋3单元601"
    assert convert_address_numerals("八号楼") == "8号楼"
    assert convert_address_numerals("二十三栋") == "23栋"
    # ordinary words keep their characters
    assert convert_address_numerals("一直漏了三天") == "一直漏了三天"
    assert convert_address_numerals("一栋楼都停电了") == "一栋楼都停电了"
    assert convert_address_numerals("七八层楼高") == "七八层楼高"
