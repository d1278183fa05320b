"""XML feed files: review elements anywhere, attributes or children, safe parsing."""

from __future__ import annotations

import time

import pytest
from feed_helpers import parse, stream
from review_feed.errors import FeedFileError
from review_feed.feed import FeedOptions
from review_feed.model import Action, Reply


def review_xml(action="NEW", attr=True, prid="PR1", extra="", **fields):
    values = {
        "product_review_id": prid,
        "review_id": "R1",
        "email": "eva.garnier@example.fr",
        "lastname": "Garnier",
        "firstname": "Eva",
        "review_date": "2026-11-19T18:04:11.0000000 +01:00",
        "review": "Très bon &amp; pas cher",
        "rate": "4",
        "order_ref": "CMD-1",
        "product_ref": "SKU-1",
    }
    values.update(fields)
    body = "".join(f"<{k}>{v}</{k}>" for k, v in values.items() if v is not None)
    if attr:
        return f'<review action="{action}">{body}{extra}</review>'
    return f"<review><action>{action}</action>{body}{extra}</review>"


def doc(*reviews, root="reviews", prolog='<?xml version="1.0" encoding="UTF-8"?>\n'):
    return prolog + f"<{root}>\n" + "\n".join(reviews) + f"\n</{root}>\n"


def xml(tmp_path, text, kind="product", **kw):
    return parse(tmp_path, text, kind=kind, ext="xml", options=FeedOptions(**kw) if kw else None)


def test_action_as_attribute_or_child(tmp_path):
    parsed = xml(tmp_path, doc(review_xml(), review_xml("update", attr=False, prid="PR2")))
    assert parsed.problems == []
    assert [(r.action, r.id) for r in parsed.rows] == [(Action.NEW, "PR1"), (Action.UPDATE, "PR2")]
    review = parsed.rows[0].review
    assert review.text == "Très bon & pas cher"
    assert review.date == "2026-11-19T18:04:11+01:00"
    assert (review.review_id, review.product_ref, review.author) == ("R1", "SKU-1", "Eva G.")
    assert parsed.rows[0].where == "review #1 (line 3)"


def test_reviews_found_at_any_depth_under_any_root_and_namespace(tmp_path):
    text = doc(
        '<batch date="2026-11-20"><meta><count>2</count></meta>'
        + review_xml()
        + "</batch><other><review action='NEW' product_review_id='PR2' product_ref='S'"
        " review_date='2026-11-19 10:00:00' rate='5'/></other>",
        root="export",
    )
    assert [r.id for r in xml(tmp_path, text).rows] == ["PR1", "PR2"]
    ns = '<v:feed xmlns:v="urn:vendor"><v:review v:action="NEW"><v:product_review_id>P9</v:product_review_id><v:product_ref>S</v:product_ref><v:review_date>2026-11-19 10:00:00</v:review_date><v:rate>5</v:rate><v:review>ok</v:review></v:review></v:feed>'  # noqa: E501
    [row] = xml(tmp_path, ns).rows
    assert (row.id, row.review.text) == ("P9", "ok")


def test_attribute_only_delete(tmp_path):
    parsed = xml(tmp_path, doc('<review action="DELETE" product_review_id="PR5"/>'))
    assert [(r.action, r.id, r.review) for r in parsed.rows] == [(Action.DELETE, "PR5", None)]


def test_aliases_and_field_map_in_xml(tmp_path):
    body = (
        "<review><action>NEW</action><id_review>R3</id_review><refProduit>SKU-3</refProduit>"
        "<horodateAvis>2026-11-19 18:04:11</horodateAvis><note>4.5</note><avis>Bien</avis>"
        "<prenom>Léa</prenom><name>Éluard</name><Stars>3</Stars></review>"
    )
    review = xml(tmp_path, doc(body)).rows[0].review
    assert (review.id, review.rating, review.text, review.author) == (
        "R3/SKU-3",
        4.5,
        "Bien",
        "Léa É.",
    )
    review = xml(tmp_path, doc(body), field_map={"stars": "rate"}).rows[0].review
    assert review.rating == 3


def test_replies_under_moderation_exchange_in_order(tmp_path):
    moderation = (
        "<moderation>"
        "<exchange><date>2026-11-20T10:00:00+01:00</date><author>1</author><comment>Vérifié</comment></exchange>"
        "<exchange><date>2026-11-20 11:00:00</date><author>2</author><comment><![CDATA[Merci <b>Eva</b> !]]></comment></exchange>"  # noqa: E501
        "<exchange><date>2026-11-21 09:00:00</date><author>3</author><comment>De rien</comment></exchange>"  # noqa: E501
        "<exchange><author>Brand</author><comment>  Sans date </comment></exchange>"
        "</moderation>"
    )
    review = xml(tmp_path, doc(review_xml(extra=moderation))).rows[0].review
    assert review.replies == (
        Reply("2026-11-20T10:00:00+01:00", "moderator", "Vérifié"),
        Reply("2026-11-20T11:00:00", "merchant", "Merci <b>Eva</b> !"),
        Reply("2026-11-21T09:00:00", "customer", "De rien"),
        Reply(None, "brand", "Sans date"),
    )


def test_row_problems_name_the_review_and_line(tmp_path):
    parsed = xml(
        tmp_path,
        doc(review_xml(), review_xml(rate="6", prid="P2"), review_xml(action="MOVE", prid="P3")),
    )
    assert [r.id for r in parsed.rows] == ["PR1"]
    assert [(p.where, p.field) for p in parsed.problems] == [
        ("review #2 (line 4)", "rate"),
        ("review #3 (line 5)", "action"),
    ]


def test_bad_reply_date_is_a_row_problem(tmp_path):
    moderation = "<moderation><exchange><date>hier</date><author>2</author><comment>x</comment></exchange></moderation>"  # noqa: E501
    [p] = xml(tmp_path, doc(review_xml(extra=moderation))).problems
    assert p.field == "exchange #1 date"


def test_site_xml(tmp_path):
    parsed = xml(tmp_path, doc(review_xml(prid=None, product_ref=None)), kind="site")
    assert parsed.rows[0].review.id == "R1"
    assert parsed.rows[0].review.product_ref is None


def test_privacy_in_xml(tmp_path):
    parsed = xml(tmp_path, doc(review_xml(), review_xml(prid="P2", firstname="Anonymous")))
    dump = repr(parsed)
    assert "Garnier" not in dump and "@" not in dump and "CMD-1" not in dump
    assert [r.review.author for r in parsed.rows] == ["Eva G.", "Anonymous"]
    kept = xml(tmp_path, doc(review_xml()), store_order_ref=True)
    assert kept.rows[0].review.order_ref == "CMD-1"


# --- whole-file errors ---------------------------------------------------------


def _file_error(tmp_path, text) -> str:
    with pytest.raises(FeedFileError) as info:
        list(stream(tmp_path, text, ext="xml"))
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("reviews_product_acme-7f3a_2026-11-20.xml: ")
    return msg


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<reviews><review action="NEW"><product_review_id>P1</product_review_id><product_ref>S</product_ref>
<review_date>2026-11-19 10:00:00</review_date><rate>5</rate>
<review>&lol9;</review></review></reviews>
"""


def test_billion_laughs_is_rejected_without_expansion(tmp_path):
    start = time.perf_counter()
    msg = _file_error(tmp_path, BILLION_LAUGHS)
    assert "<!DOCTYPE" in msg and "line 2:" in msg
    assert time.perf_counter() - start < 2


def test_doctype_after_a_long_prolog_is_still_rejected(tmp_path):
    # comments and processing instructions over several read chunks, "-->" astride two
    padding = "<!--" + "x" * 65_530 + "-->\n<?pi " + "y\n" * 70_000 + "?>\n<!-- < -->\n"
    text = BILLION_LAUGHS.replace('<?xml version="1.0"?>\n', '<?xml version="1.0"?>\n' + padding)
    items = []
    with pytest.raises(FeedFileError, match="line 70005: a <!DOCTYPE"):
        for item in stream(tmp_path, text, ext="xml"):
            items.append(item)
    assert items == []  # rejected before the first row came out
    assert "lollollol" not in repr(items)


def test_external_dtd_is_rejected_and_never_fetched(tmp_path):
    text = '<?xml version="1.0"?>\n<!DOCTYPE reviews SYSTEM "http://192.0.2.1/feed.dtd">\n' + doc(
        review_xml(), prolog=""
    )
    start = time.perf_counter()
    assert "DOCTYPE" in _file_error(tmp_path, text)
    assert time.perf_counter() - start < 2  # no network timeout


def test_entity_reference_without_declaration_is_not_well_formed(tmp_path):
    msg = _file_error(tmp_path, doc(review_xml(review="&xxe;")))
    assert "not well-formed" in msg and "line 3" in msg and "xxe" in msg


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (doc(review_xml(), review_xml(rate="<b>4</i>")), "line 4"),
        (doc(review_xml(), review_xml())[:-30], "line 4"),
        ("", "line 1"),
        (doc(review_xml()) + "<second-root/>", "line 5"),
    ],
)
def test_not_well_formed_is_a_file_error_with_line(tmp_path, text, line):
    msg = _file_error(tmp_path, text)
    assert "not well-formed XML" in msg and f"{line}," in msg


def test_error_after_rows_were_streamed(tmp_path):
    reviews = [review_xml(prid=f"P{i}") for i in range(50)]
    text = doc(*reviews)[:-10]  # cut the closing tag
    got = []
    with pytest.raises(FeedFileError, match="after review #50"):
        for item in stream(tmp_path, text, ext="xml"):
            got.append(item)
    assert len(got) == 50


def test_not_utf8_xml(tmp_path):
    text = doc(review_xml(review="caf\udce9")).encode("utf-8", "surrogateescape")
    msg = _file_error(tmp_path, text)
    assert "line 3" in msg


def test_oversize_xml_value(tmp_path):
    text = doc(review_xml(review="é" * 600), review_xml(prid="P2"))
    items = list(stream(tmp_path, text, ext="xml", max_field_size=1000))
    assert [type(i).__name__ for i in items] == ["RowProblem", "Row"]
    assert "review #1" in str(items[0]) and "over REVIEW_FEED_MAX_FIELD_SIZE" in str(items[0])


def test_empty_feed_element(tmp_path):
    assert xml(tmp_path, doc()).rows == []


def test_many_reviews_stream(tmp_path):
    reviews = [review_xml(prid=f"P{i}") for i in range(3000)]
    parsed = xml(tmp_path, doc(*reviews))
    assert len(parsed.rows) == 3000 and parsed.problems == []
    assert parsed.rows[-1].where == "review #3000 (line 3002)"


def test_second_guard_refuses_a_parsed_doctype():
    from lxml import etree
    from review_feed.feed.xmlfile import _refuse_dtd

    tree = etree.fromstring(
        b"<!DOCTYPE r [<!ENTITY a 'x'>]><r/>", etree.XMLParser(resolve_entities=False)
    ).getroottree()
    with pytest.raises(FeedFileError, match="DOCTYPE"):
        _refuse_dtd(tree, "f.xml")
    _refuse_dtd(etree.fromstring(b"<r/>").getroottree(), "f.xml")  # no DOCTYPE: fine


def test_unterminated_prolog_comment(tmp_path):
    assert "not well-formed" in _file_error(tmp_path, "<?xml version='1.0'?>\n<!-- never closed")


def test_bom_in_xml(tmp_path):
    text = "\ufeff" + doc(review_xml())
    assert [r.id for r in xml(tmp_path, text).rows] == ["PR1"]
