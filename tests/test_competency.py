"""Competency questions: each query in queries/ returns the answer the sources give."""

from pathlib import Path

import pytest

from tests.paths import ROOT

QUERIES = ROOT / "queries"


def run(store, name: str) -> list[dict[str, str]]:
    text = (QUERIES / name).read_text(encoding="utf-8")
    solutions = store.query(text, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in solutions]


def test_every_query_starts_with_a_comment_declares_prefixes_and_has_a_test():
    files = sorted(QUERIES.glob("*.rq"))
    tests = Path(__file__).read_text(encoding="utf-8")
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), path
        assert "PREFIX " in text, path
        assert f'"{path.name}"' in tests, f"{path.name} has no test here"


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
    # Every funding relation of the five stories, each one ag:Grant (issue 16).
    assert {(r["funderLabel"], r["fundedLabel"] or r["recipientLabel"]) for r in rows.values()} == {
        ("UK Government", "Global programme of capacity and capability building"),
        (
            "End Violence Partnership",
            "ICMEC and Child Helpline International joint project on "
            "support for children who experienced online sexual exploitation and abuse",
        ),
        ("End Violence Partnership", None),
        (
            "Anti-Crime Capacity Building Program",
            "IBCR project on trafficking and exploitation of persons in Honduras",
        ),
        ("Bureau of Population, Refugees, and Migration", "IOM Mesoamerica Program"),
    }
    uk = rows["uk-government-2015-unicef-hosted-fund"]
    assert (uk["funderLabel"], uk["value"], uk["currency"], uk["year"], uk["hostLabel"]) == (
        "UK Government",
        "40000000",
        "GBP",
        "2015",
        "UNICEF",
    )
    assert uk["currencyDerived"] == "true"  # read from a bare "£"
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
    assert summit["precision"] == "day"
    workshop = rows["Workshop of the CICESCT Local Committee in La Ceiba"]
    assert (workshop["start"], workshop["reportedOn"], workshop["placeLabel"]) == (
        None,
        "2018-06-13",
        "La Ceiba",
    )
    steering = rows["First meeting of the IBCR project Steering Committee in Honduras"]
    assert (steering["start"], steering["dateDerived"]) == ("2019-08-23", "true")
    assert steering["placeLabel"] is None  # the story gives no place for it
    visit = rows["IBCR visit to Honduras in August"]
    assert (visit["start"], visit["precision"], visit["dateDerived"]) == (
        "2019-08",
        "month",
        "true",
    )


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
    # areas are the countries a figure covers; an event's venue is the event's location
    summit = rows["weprotect-summit-2015-governments-represented"]
    assert (summit["areas"], summit["venue"]) == (None, "Abu Dhabi")


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


def test_11_committee_responsibilities(content_store):
    rows = run(content_store, "11-committee-responsibilities.rq")
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row["committeeLabel"], set()).add(row["responsibility"])
    assert found["Local Committee of the CICESCT in La Ceiba"] == {
        f"{task} efforts to eradicate trafficking in persons"
        for task in ("promoting", "coordinating", "monitoring", "evaluating")
    }
    assert found["Steering Committee of the IBCR project in Honduras"] == {
        "support, collaboration and advice for a project's implementation"
    }
    assert found[
        "Inter-institutional Commission against Sexual Exploitation and Trafficking in Persons"
    ] == {"coordinating the efforts under: Honduras's commitment to the WePROTECT Global Alliance"}
    remit = [r for r in rows if r["committeeLabel"].startswith("Local Committee")]
    assert {r["derived"] for r in remit} == {"true"}  # which committee 'the Committee' is


def test_12_outcomes_of_the_2015_summit(content_store):
    rows = run(content_store, "12-summit-outcomes.rq")
    assert {r["summitLabel"] for r in rows} == {"WePROTECT summit 2015, Abu Dhabi"}
    outcomes = {r["label"] for r in rows if r["kind"] == "outcome"}
    assert len(outcomes) == 5
    assert "appropriate support services for children and young people" in outcomes
    assert {r["label"] for r in rows if r["kind"] == "signatory type"} == {
        "countries",
        "civil society organisations",
        "international organisations",
        "industry",
    }


def test_13_commitment_parties_are_states_or_organisations(content_store):
    rows = run(content_store, "13-commitment-parties.rq")
    honduras = [r for r in rows if r["partyLabel"] == "Honduras"]
    assert [(r["partyKind"], r["toLabel"], r["partyDerived"]) for r in honduras] == [
        ("state", "WePROTECT Global Alliance", "false")
    ]
    cameron = [r for r in rows if r["personName"] == "David Cameron"]
    assert [
        (r["partyLabel"], r["partyKind"], r["postLabel"], r["partyDerived"]) for r in cameron
    ] == [("UK Government", "organisation", "Prime Minister of the United Kingdom", "true")]
    assert {r["partyKind"] for r in rows} == {"state", "organisation", "kind of party"}


def test_14_every_government_body_has_its_country(content_store):
    rows = run(content_store, "14-government-bodies.rq")
    by_body = {r["bodyLabel"]: r for r in rows}
    bodies = run_text(
        content_store,
        """PREFIX ag: <https://w3id.org/alliance-graph/ontology#>
        SELECT DISTINCT ?b WHERE { ?b a ag:GovernmentBody }""",
    )
    assert len(by_body) == len(bodies)  # none is left out for want of a country
    assert (by_body["Home Office"]["countryLabel"], by_body["Home Office"]["parentLabel"]) == (
        "United Kingdom",
        "UK Government",
    )
    assert (
        by_body["Secretariat of Health"]["countryLabel"],
        by_body["Secretariat of Health"]["countryDerived"],
    ) == (
        "Honduras",
        "true",
    )
    assert by_body["National Directorate of Police Education"]["countryDerived"] == "false"


def test_15_purposes(content_store):
    rows = run(content_store, "15-purposes.rq")
    purposes: dict[str, set[str]] = {}
    for row in rows:
        purposes.setdefault(row["thingLabel"], set()).add(row["purpose"])
    assert purposes["WePROTECT Global Alliance"] == {
        "ending the sexual exploitation of children online"
    }
    assert purposes["End Violence Partnership investment since its inception"] == {
        "preventing and eliminating online child sexual exploitation and abuse"
    }
    assert len(purposes["IOM Mesoamerica Program"]) == 2
    assert {
        "swift removal of child sexual abuse material",
        "law enforcement able to investigate previously unseen material",
        "reducing revictimisation",
    } <= purposes["WePROTECT Model National Response"]


def test_16_names_from_outside_the_stories_name_their_reference_source(content_store):
    rows = {r["name"]: r for r in run(content_store, "16-outside-knowledge.rq")}
    assert set(rows) == {
        "International Organization for Migration",
        "International Bureau for Children's Rights",
        "European Union",
    }
    assert (
        rows["European Union"]["sourceTitle"] == "Treaty on European Union (consolidated version)"
    )
