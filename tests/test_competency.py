"""Competency questions: each query in queries/ returns the answer the sources give."""

import pytest

from tests.paths import ROOT

QUERIES = ROOT / "queries"


def run(store, name: str) -> list[dict[str, str]]:
    text = (QUERIES / name).read_text(encoding="utf-8")
    solutions = store.query(text, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in solutions]


def test_every_query_starts_with_a_comment_and_declares_prefixes():
    files = sorted(QUERIES.glob("*.rq"))
    assert len(files) == 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), path
        assert "PREFIX " in text, path


def test_01_honduras_committed_to_weprotect(content_store):
    rows = run(content_store, "01-state-commitments.rq")
    assert rows == [
        {
            "allianceLabel": "WePROTECT Global Alliance",
            "reportedOn": "2017-11-14",
            "confirmerName": "Jose Isaias Barahona",
            "postLabel": "Acting Secretary of State",
            "medium": "letter",
        }
    ]


def test_02_uk_founded_weprotect_of_more_than_70(content_store):
    rows = {r["allianceLabel"]: r for r in run(content_store, "02-alliance-founders-and-size.rq")}
    weprotect = rows["WePROTECT Global Alliance"]
    assert weprotect["founderLabel"] == "United Kingdom"
    assert (weprotect["size"], weprotect["qualifier"]) == ("70", "more than")
    assert "Global Alliance Against Child Sexual Abuse Online" in rows


def test_03_funding(content_store):
    rows = {r["grant"].rsplit("/", 1)[-1]: r for r in run(content_store, "03-funding.rq")}
    uk = rows["uk-government-2015-unicef-hosted-fund"]
    assert (uk["funderLabel"], uk["value"], uk["currency"], uk["year"], uk["hostLabel"]) == (
        "UK Government",
        "40000000",
        "GBP",
        "2015",
        "UNICEF",
    )
    assert uk["currencyDerived"] == "false"
    evp = rows["end-violence-partnership-investment-since-inception"]
    assert (evp["value"], evp["currency"], evp["currencyDerived"]) == ("47000000", "USD", "true")
    grantee = rows["end-violence-partnership-icmec"]
    assert grantee["recipientLabel"] == "International Centre for Missing and Exploited Children"
    assert grantee["value"] is None


def test_04_tri_national_agreement(content_store):
    rows = run(content_store, "04-agreement-parties.rq")
    assert {r["stateLabel"] for r in rows} == {"El Salvador", "Guatemala", "Honduras"}
    assert {r["signatoryPostLabel"] for r in rows} == {
        "Vice President of El Salvador",
        "Vice President of Guatemala",
        "Vice President of Honduras",
    }
    assert {r["facilitatorLabel"] for r in rows} == {
        "International Centre for Missing and Exploited Children"
    }


def test_05_la_ceiba_local_committee_members(content_store):
    rows = run(content_store, "05-committee-members.rq")
    assert {r["memberLabel"] for r in rows} == {
        "Secretariat of Health",
        "Municipal Women's Office",
        "Public Ministry",
        "National Police of Honduras",
        "Caritas",
        "SOS Children's Villages",
        "USAID",
    }


@pytest.mark.parametrize(
    ("holder", "post"),
    [
        ("Jose Isaias Barahona", "Acting Secretary of State"),
        ("Thomas Carter", "British Ambassador to Honduras"),
        ("Robert Cunningham", "CEO and President of ICMEC"),
        ("Marija Manojlovic", "Director of the End Violence Partnership's Safe Online initiative"),
        ("David Cameron", "Prime Minister of the United Kingdom"),
        ("Ernie Allen", "Leader of the WePROTECT International Advisory Board"),
        ("Jorge Peraza", "IOM Chief of Mission for El Salvador, Guatemala and Honduras"),
        ("Rosa Corea", "Secretary General of CICESCT"),
        (
            "Olvin Aníbal Villalobos Velásquez",
            "Deputy Minister of the Secretariat of Labour and Social Security",
        ),
        ("Jose Reinaldo Servellón", "Vice-Rector of the National Directorate of Police Education"),
    ],
)
def test_06_posts(content_store, holder, post):
    rows = run(content_store, "06-posts.rq")
    assert post in {r["postLabel"] for r in rows if r["holderName"] == holder}


def test_06_unnamed_posts_have_no_invented_holder(content_store):
    rows = {r["postLabel"]: r for r in run(content_store, "06-posts.rq")}
    for post in ("Vice President of Honduras", "Honduran Government spokesperson"):
        assert rows[post]["holderName"] is None


def test_07_events(content_store):
    rows = {r["eventLabel"]: r for r in run(content_store, "07-events.rq")}
    summit = rows["WePROTECT summit 2015, Abu Dhabi"]
    assert (summit["start"], summit["end"], summit["placeLabel"], summit["dateDerived"]) == (
        "2015-11-16",
        "2015-11-17",
        "Abu Dhabi",
        "false",
    )
    workshop = rows["Workshop of the CICESCT Local Committee in La Ceiba"]
    assert (workshop["start"], workshop["reportedOn"], workshop["placeLabel"]) == (
        None,
        "2018-06-13",
        "La Ceiba",
    )
    steering = rows["First meeting of the IBCR project Steering Committee in Honduras"]
    assert (steering["start"], steering["dateDerived"]) == ("2019-08-23", "true")


def test_08_programmes(content_store):
    rows = run(content_store, "08-programmes.rq")
    ibcr = [r for r in rows if r["initiativeLabel"].startswith("IBCR project")]
    assert {(r["countryLabel"], r["funderLabel"], r["funderCountryLabel"]) for r in ibcr} == {
        ("Honduras", "Anti-Crime Capacity Building Program", "Canada")
    }
    joint = {
        r["countryLabel"]
        for r in rows
        if r["initiativeLabel"].startswith("ICMEC and Child Helpline")
    }
    assert joint == {"Jordan", "Kenya", "Peru", "Philippines", "Tanzania"}
    iom = [r for r in rows if r["initiativeLabel"] == "IOM Mesoamerica Program"]
    assert {(r["funderLabel"], r["countryDerived"]) for r in iom} == {
        ("Bureau of Population, Refugees, and Migration", "true")
    }


def test_09_statistics(content_store):
    rows = {r["statistic"].rsplit("/", 1)[-1]: r for r in run(content_store, "09-statistics.rq")}
    cases = rows["online-child-sexual-exploitation-cases-el-salvador-guatemala-honduras-2019-2020"]
    assert (
        cases["value"],
        cases["qualifier"],
        cases["unit"],
        cases["periodStart"],
        cases["periodEnd"],
    ) == ("140", "more than", "percent", "2019", "2020")
    assert set(cases["areas"].split(" | ")) == {"El Salvador", "Guatemala", "Honduras"}
    assert (
        rows["inhope-member-hotlines-2015"]["value"],
        rows["inhope-member-hotlines-2015"]["qualifier"],
    ) == ("51", "exactly")
    assert rows["la-ceiba-workshop-2018-participants"]["qualifier"] == "nearly"


def test_10_provenance_of_the_uk_grant(content_store):
    rows = run(content_store, "10-fact-provenance.rq")
    assert rows == [
        {
            "document": "https://w3id.org/alliance-graph/id/source/gov-uk-2017-honduras-weprotect",
            "title": "UK welcomes Honduras\u2019 commitment to WePROTECT",
            "publisherLabel": "UK Government",
            "issued": "2017-11-14",
            "seedFile": "000_663f7f3ae6613fe7.txt",
            "line": "13",
        }
    ]


def test_honduras_commission_is_one_node_with_both_acronyms(content_store):
    query = """PREFIX ag: <https://w3id.org/alliance-graph/ontology#>
    SELECT DISTINCT ?a WHERE {
        <https://w3id.org/alliance-graph/id/organization/cicesct> ag:acronym ?a
    }"""
    assert {r["a"] for r in run_text(content_store, query)} == {"CICESCT", "CICECST"}


def run_text(store, text):
    solutions = store.query(text, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{n: row[n].value for n in names} for row in solutions]
