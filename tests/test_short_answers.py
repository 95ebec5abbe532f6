"""Short answers chosen by the sentence's structure, over articles written for these checks (each a construction
the model's entity types alone do not settle)."""

import pytest

from rag.service import build_service
from tests.conftest import clear_chroma_cache, make_settings

ARTICLES = {
    "velmar-broadcasting.txt": """Velmar Broadcasting expands its satellite service

Velmar Broadcasting said on Tuesday that its satellite service had reached its target. The broadcaster said its \
reach into 36% of households in the country represented an audience of more than 20 million people. Key selling \
points were better picture quality, more channels and an interactive service branded Openline. The channel \
Velmar Travel was later rebranded as Journeys TV. Velmar moved its studios to Pellwick in 2023 because rents in \
the capital had doubled, and it hired 40 engineers for fear of falling behind its rivals. Velmar did not renew \
its contract with Corvan Foods.
""",
    "harlow-university.txt": """Student life at Harlow University

Students at Harlow University run more than 300 clubs. Among the best known is the nation's oldest continuously \
running student film society Reel Society, which shows films every week. The physics department was the site of \
Harlow Pile-1 (the first nuclear reactor built on a campus in the region).
""",
    "kaldor-bridge.txt": """date 2024-05-02 Kaldor approves the river bridge

The Kaldor city council approved the plan for a new river bridge, after two years of debate. The bridge will \
link the old town with the harbour district and is due to open in 2027.
""",
    "tarnwick-flood.txt": """date 2024-09-02 Storm floods homes by the Ober

Flood water reached the houses of Tarnwick, in southern Vessia, on Sunday after the river Ober burst its banks.
""",
    "dunmore-trams.txt": """date 2025-02-03 Dunmore tram drivers strike

Some 2,400 tram drivers in Dunmore walked out on Monday at the start of a four-day strike over pay. The strike is \
due to end at midnight on Thursday, 6 February, the union said. The last tram strike in Dunmore, in 2021, lasted \
nine days. Both sides agreed to hold talks on 9 September in Brask.
""",
    "brisk-mills.txt": """date 1987-03-05 Brisk Mills buys Norland wheat

<Brisk Mills Ltd> said it agreed to buy 40,000 tonnes of soft wheat from Norgrain Co at 210 dlrs a tonne.
""",
    "brisk-mills-fire.txt": """date 1987-04-02 Fire at Brisk Mills plant

A fire at the Brisk Mills flour plant in Corlen that injured at least one worker caused an estimated 2 mln dlrs in \
damage, the company said.
""",
    "brisk-mills-reopens.txt": """date 1987-04-03 Brisk Mills plant to reopen

Brisk Mills said its Corlen flour plant will reopen next week after the fire, in which at least one worker was hurt.
""",
    "marlow-college.txt": """Governance of Marlow College

The Board of Governors oversees the long-term plans of the college and is composed of 40 members. Directly \
beneath the Rector are the Provost and fourteen Vice Rectors. In Old Marlow, Halon of Tyrrus (4th century BC) was \
one of several men studying the properties of salts. Edwin Thal and his sister Mara Lind founded the college in \
1921. The most recent additions are a branch in Orbeck, which opened in 2014, and a branch in Tarlen which opened in \
2016.
""",
    "orlen-harbour.txt": """date 2024-06-10 Orlen harbour reopens after strike

Dock workers at the Orlen harbour returned to work on Monday. The strike at the harbour lasted 12 days and held \
up more than 40 ships. The first ship to leave the harbour after the strike was the Maren Star, a grain carrier. \
The old cranes were closed in 2019 and now serve as a museum for visitors. In 2021, 3 million tonnes of grain \
passed through the harbour, but in 2023 the harbour handled only 1.2 million tonnes. The Court of Maritime \
Appeals ruled that the strike was lawful. The harbour authority dredged the channel in May to let larger ships \
enter. To cut its costs, the ferry company closed its night office. Several shipping lines, such as Nordwave and \
Baltic Crest, moved their cargo to Orlen during the strike. The new safety rules of the harbour can be enforced \
by the port inspectors. A bronze statue at the harbour gate commemorates the dockers who died in the storm of \
1951. Union leaders called the walkout a costly dispute for the whole region. In 1960, c. 4,500 people worked at \
the harbour, but in 1990 – only 900. Repairs to the old quay cost 4.5 million thalers. The harbour authority \
said on Friday that a new grain terminal will open on 1 March 2025. Ferry crews at the harbour held a two-day \
stoppage in April. By May, 14 of the 20 shipping firms at the harbour had signed the new safety code. The \
harbour is served by its largest crane, the gantry Titan.

Night crews fight the silt, carried into the harbour basin by the spring floods of upland streams. The harbour \
ships bulk goods such as grain, timber and steel pipes to ports across the Baltic. Ferries from Gdansk, Riga and \
Tallinn were turned back during the strike.

A walkout by the crane drivers of the harbour in October lasted a week. "The future of this harbour is in our \
hands," union leader Ola Brant told the dockers at the gate.
""",
}


@pytest.fixture(scope="module")
def short_service(tmp_path_factory, embedder, analyzer):
    folder = tmp_path_factory.mktemp("short-articles")
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    service = build_service(make_settings(tmp_path_factory.mktemp("short-store")), embedder, analyzer)
    service.ingest([folder], progress=False)
    yield service
    clear_chroma_cache()


@pytest.mark.parametrize("question, short", [
    # the name a naming verb gives ("branded", "rebranded as"), not the phrase nearest the question's words
    ("What did Velmar Broadcasting name its interactive service?", "Openline"),
    ("What was Velmar Travel later rebranded as?", "Journeys TV"),
    # the name set right beside the phrase the question describes, before or after it
    ("What is the name of the country's oldest continuously running student film society?", "Reel Society"),
    ("What was the name of the first nuclear reactor built on a campus in the region?", "Harlow Pile-1"),
    # "What was the target percentage…": the subject of "was" is the asked thing, a percentage
    ("What was the target percentage of households Velmar Broadcasting wanted to reach?", "36%"),
    # what the text says the asked thing is: the phrase on the other side of its "is"
    ("What was the first ship to leave the Orlen harbour after the strike?", "Maren Star"),
    # "what" standing alone ("What do … serve as?"): no noun of the question heads the answer
    ("What do closed cranes serve as after they close?", "museum"),
    # "how many days": a number of days, which the model types as a date
    ("How many days did the strike at the Orlen harbour last?", "12 days"),
    # the number nearest the year the question gives
    ("How many tonnes of grain did the Orlen harbour handle in 2021?", "3 million tonnes"),
    # "Which court": a name holding "of" is not cut at it ("Court of Maritime Appeals", not "Maritime Appeals")
    ("Which court ruled on the strike at the Orlen harbour?", "Court of Maritime Appeals"),
    # who, said with a common noun: the phrase beside the question's verb, on the side of what is asked
    ("Who can enforce the new safety rules of the Orlen harbour?", "port inspectors"),
    ("Who does the bronze statue at the Orlen harbour gate commemorate?", "dockers"),  # its verb after "does"
    # "how" and an adjective: the word the text qualifies the question's noun with
    ("How damaging was the dispute at the Orlen harbour?", "costly"),
    # a figure the small model types as a name ("c. 4,500" as NORP) is a number
    ("How many people worked at the Orlen harbour in 1960?", "c. 4,500"),
    # a sum with the unit the small model leaves out of it ("4.5 million" typed CARDINAL, then "thalers")
    ("How much did the repairs to the old quay at the Orlen harbour cost?", "4.5 million thalers"),
    # "said on Friday" dates the statement, not what it says will happen
    ("When will the new grain terminal at the Orlen harbour open?", "1 March 2025"),
    # "a two-day stoppage" says how long, not when; and "April" says when, not how long
    ("When did the ferry crews at the Orlen harbour stop work?", "April"),
    ("How long did the crane drivers' walkout at the Orlen harbour last?", "week"),  # "a week", its article stripped
    # "14 of the 20 shipping firms": how many did it is the part
    ("How many shipping firms signed the new safety code of the Orlen harbour?", "14"),
    # a phrase ending in a capitalized word set by a comma beside a phrase of the asked noun
    ("What is the largest crane of the Orlen harbour?", "gantry Titan"),
    # "the silt, carried into…": a participle after a comma is passive, so the thing carried stands before it
    ("What is carried into the basin of the Orlen harbour by the spring floods?", "silt"),
    # what someone said: the words the text quotes, on either side of "told"
    # (whole: not cut at "of" after "future", a word of the question)
    ("What did Ola Brant tell the dockers about the future of the Orlen harbour?",
     "The future of this harbour is in our hands"),
    # "what kind of company": a phrase headed by "company", not the name of one
    ("What kind of company closed its night office to cut its costs?", "ferry company"),
])
def test_the_short_answer_follows_the_sentence_structure(short_service, question, short):
    answer = short_service.ask(question)
    assert answer.answered and answer.short_answer is not None and answer.short_answer.text == short


def test_a_phrase_naming_a_class_gives_the_things_it_lists(short_service):
    # "Several shipping lines, such as Nordwave and Baltic Crest": the lines listed (the small model takes the
    # two for one name), not "Several shipping lines"
    answer = short_service.ask("What shipping line moved its cargo to Orlen during the strike?")
    assert answer.answered and answer.short_answer.text in ("Nordwave", "Baltic Crest", "Nordwave and Baltic Crest")


def test_how_and_an_adjective_takes_only_a_word_on_its_scale(short_service):
    # "a two-day stoppage": a word before the noun, but not how unusual the stoppage was
    answer = short_service.ask("How unusual was the stoppage by the ferry crews at the Orlen harbour?")
    assert answer.short_answer is None
    assert short_service.ask("How damaging was the dispute at the Orlen harbour?").short_answer.text == "costly"


def test_a_plural_question_is_answered_by_the_whole_list(short_service):
    # "bulk goods such as grain, timber and steel pipes": every item, from the first to the last
    answer = short_service.ask("What bulk goods does the Orlen harbour ship across the Baltic?")
    assert answer.answered and answer.short_answer.text == "grain, timber and steel pipes"
    # names of the asked kind joined by commas and "and"
    answer = short_service.ask("Which cities had their ferries turned back during the Orlen harbour strike?")
    assert answer.answered and answer.short_answer.text == "Gdansk, Riga and Tallinn"


NORLIT = """date 2024-06-10 Norlit names a new chief

Teo Brask resigned as chief executive of Norlit on Friday. Teo Brask joined Norlit in 2009 and led its move into \
ferries in 2015. The board called off the sale of the ferry arm in May. Estonia's former transport minister, Ivo \
Sarn, will chair the board until it meets in Tallinn. Norlit will show its new ferry at trade fairs hosted by the \
Baltic Ports Council. The ferry arm is worth more than its 12 ferries: the board values it at 40 million \
thalers. A new quay on 3 hectares of reclaimed land cost 9 million thalers. Norlit's deputy finance director Omar \
Hask and its finance director Eva Lund signed the accounts.
"""


KELDA = """date 2024-07-02
title: Kelda Mills board removes its chief

The board of Kelda Mills has removed Runa Vik as chief executive after a loss-making year. The sales chief Anton \
Berg will lead the company until a successor is found. The board also named Ines Dahl president of the company, \
succeeding Jon Sund, who remains chairman.
"""

TARN = """date 2024-07-09
title: Tarn Foods president resigns

Tarn Foods said Olle Brink has resigned as its president, citing poor health. He will be replaced by Tarn \
chairman Nils Ek. Brink will return to private law practice in Velmont.
"""

ORLA = """date 2024-07-11
title: Orla Steel president resigns

Orla Steel said Ivar Holm resigned as president and a director of the company and president of Kessel, Orla's largest \
division. Chairman Ada Berg will take on the duties of president again, a role she gave up in 2019, the company said. \
Ada Berg will visit the Kessel plant next week to reassure its workers, after a fire there.
"""


LUMEN = """date 2024-05-02
title: Lumen Press names new editor

Lumen Press named Carla Oss, 54, its editor on Monday. She replaces Ivo Marten, who retired at the age of 67 after a \
two-day farewell. The paper, a 120-year-old daily, sells 40,000 copies. Its printing plant is 35 years old. Lumen \
Press has long served as the voice of the harbour towns.
"""


@pytest.fixture(scope="module")
def norlit_service(tmp_path_factory, embedder, analyzer):
    folder = tmp_path_factory.mktemp("norlit")
    (folder / "norlit-ferries.txt").write_text(NORLIT, encoding="utf-8")
    (folder / "kelda-board.txt").write_text(KELDA, encoding="utf-8")
    (folder / "tarn-foods.txt").write_text(TARN, encoding="utf-8")
    (folder / "orla-steel.txt").write_text(ORLA, encoding="utf-8")
    (folder / "lumen-press.txt").write_text(LUMEN, encoding="utf-8")
    service = build_service(make_settings(tmp_path_factory.mktemp("norlit-store")), embedder, analyzer)
    service.ingest([folder], progress=False)
    yield service
    clear_chroma_cache()


def test_a_verb_and_its_particle_are_said_as_the_lexicon_says(norlit_service):
    # "step down": "resigned" (rag/lexicon/question_words.txt); not the year Teo Brask joined
    answer = norlit_service.ask("When did Teo Brask step down?")
    assert answer.answered and answer.short_answer.text == "Friday"


def test_a_month_spelled_like_a_stop_word_is_a_date(norlit_service):
    answer = norlit_service.ask("When did the board call off the sale of the ferry arm?")
    assert answer.answered and answer.short_answer.text == "May"


def test_where_someone_is_from_is_the_place_that_qualifies_them_not_where_events_happen(norlit_service):
    answer = norlit_service.ask("Where is Ivo Sarn from?")
    assert answer.answered and answer.short_answer.text == "Estonia"


def test_a_participle_followed_by_by_is_passive(norlit_service):
    # "trade fairs hosted by the Baltic Ports Council": the doer follows "by", the thing done to precedes
    answer = norlit_service.ask("Who hosts the fairs?")
    assert answer.answered and answer.short_answer.text == "Baltic Ports Council"


def test_a_word_about_the_text_itself_is_not_asked_of_the_evidence(norlit_service):
    # no sentence says "mentioned": the council is what is asked for
    answer = norlit_service.ask("Which council is mentioned?")
    assert answer.answered and answer.short_answer.text == "Baltic Ports Council"


@pytest.mark.parametrize("question, short", [
    ("How much is the ferry arm worth?", "40 million thalers"),  # a sum in a currency the model takes for a count
    ("How much did the new quay cost?", "9 million thalers"),  # a cost is a sum, not the hectares it covers
])
def test_how_much_something_costs_or_is_worth_is_a_sum(norlit_service, question, short):
    answer = norlit_service.ask(question)
    assert answer.answered and answer.short_answer.text == short


def test_the_title_before_a_name_says_whether_it_is_the_one_asked_about(norlit_service):
    # "deputy finance director Omar Hask" holds another rank than the one asked about
    answer = norlit_service.ask("Who is Norlit's finance director?")
    assert answer.answered and answer.short_answer.text == "Eva Lund"


@pytest.mark.parametrize("question, short", [
    # she was removed: she held the post and holds it no more; "The sales chief" (a phrase of its own before the
    # name) says a head, a word the lexicon gives for running something
    ("Who is running Kelda Mills at the moment?", "Anton Berg"),
    ("Who heads Kelda Mills now?", "Anton Berg"),
    ("Who was removed as Kelda Mills' chief executive?", "Runa Vik"),  # asked who left
    ("Who was Kelda Mills' chief executive?", "Runa Vik"),  # asked who held it
    ("Who chairs Kelda Mills?", "Jon Sund"),  # he left the presidency and "remains chairman"
    # he left the post asked about: not the answer, named in full or by his surname alone ("Brink will return…")
    ("Who is Tarn Foods' president now?", "Nils Ek"),
    ("Who resigned as Tarn Foods' president?", "Olle Brink"),
    # and a post only a person holds is not answered by the division the model tags an organization ("Kessel")
    ("Who is Orla Steel's president now?", "Ada Berg"),
])
def test_one_who_left_a_post_holds_it_no_more(norlit_service, question, short):
    answer = norlit_service.ask(question)
    assert answer.answered and answer.short_answer.text == short


@pytest.mark.parametrize("question, reason", [
    ("Why was Runa Vik removed?", "loss-making year"),  # what came first, said of an event: "after"
    ("Why did Olle Brink resign?", "poor health"),  # "…, citing poor health"
    # a purpose ("to" and a verb) stands beside what came first ("after a fire there")
    ("Why will Ada Berg visit the Kessel plant?", "reassure its workers"),
    # "What is the purpose of…?" asks why, for a purpose only
    ("What is the purpose of Ada Berg's visit to Kessel?", "reassure its workers"),
])
def test_a_reason_said_by_what_came_first_or_by_what_was_cited(norlit_service, question, reason):
    answer = norlit_service.ask(question)
    assert answer.answered and answer.short_answer.text == reason


@pytest.mark.parametrize("question, reason", [
    ("Why did the river flood?", "two days of torrential rain"),  # "burst its banks following two days of…"
    ("Why were the residents of Merrowick evacuated?", "River Tamsel burst its banks"),  # "evacuated … after the…"
    # "the result was owed to…"
    ("Why was the harvest so good this year?", "heavy spring rains and to new irrigation canals on the Orvel plains"),
])
def test_a_cause_said_by_what_came_before_or_what_it_was_owed_to(corpus_service, question, reason):
    answer = corpus_service.ask(question, top_k=10)
    assert answer.answered and answer.short_answer.text == reason


@pytest.mark.parametrize("question, age", [
    ("How old is Carla Oss?", "54"),  # "Carla Oss, 54,"
    ("How old is the printing plant?", "35 years old"),
    ("How old is the paper?", "120-year-old"),
])
def test_how_old_is_answered_by_an_age(norlit_service, question, age):
    answer = norlit_service.ask(question)
    assert answer.answered and answer.short_answer.text == age


def test_how_something_is_described_is_what_the_text_casts_it_as(norlit_service):
    answer = norlit_service.ask("How is Lumen Press described?")  # "has long served as the voice of…"
    assert answer.answered and answer.short_answer.text == "voice of the harbour towns"


def test_how_old_is_not_answered_by_a_time_that_is_no_age(norlit_service):
    # "a two-day farewell", "Friday", "2009": times, no one's age
    answer = norlit_service.ask("How old is Teo Brask?")
    assert not answer.answered and answer.short_answer is None


@pytest.mark.parametrize("question", ["What made the record harvest possible?", "What led to the record harvest?"])
def test_what_made_something_possible_or_led_to_it_asks_for_a_cause(corpus_service, question):
    answer = corpus_service.ask(question, top_k=10)
    assert answer.answered and answer.short_answer.text == \
        "heavy spring rains and to new irrigation canals on the Orvel plains"


def test_a_surname_the_model_tags_as_an_organization_is_no_company(corpus_service):
    # "Varga was accompanied by a business delegation of 45 companies, among them the Halvik port operator Nordbay
    # Terminals": the model tags "Varga" an organization; Ilse Varga is named in full in the same article
    answer = corpus_service.ask("Which company runs the port in Halvik?", top_k=10)
    assert answer.answered and answer.short_answer.text == "Nordbay Terminals"


def test_a_sum_is_money_not_a_number_of_something_else(corpus_service):
    # "new irrigation canals on the Orvel plains, which now water 62,000 hectares": an area, not what they cost
    assert not corpus_service.ask("How much did the new irrigation canals cost?", top_k=10).answered


def test_the_holder_of_another_country_s_post_or_another_rank_of_it_is_no_answer(corpus_service):
    # "Ostmere's Vice Foreign Minister Ilse Varga and Serevian Foreign Minister Dario Kellan": Ostmere's foreign
    # minister is neither, nor "Serevian"
    assert not corpus_service.ask("Who is Ostmere's foreign minister?", top_k=10).answered
    answer = corpus_service.ask("Who is Serevia's foreign minister?", top_k=10)
    assert answer.answered and answer.short_answer.text == "Dario Kellan"
    answer = corpus_service.ask("Who did Ostmere's deputy foreign minister hold talks with in Amberlin?", top_k=10)
    assert answer.answered and answer.short_answer.text == "Dario Kellan"  # the other party is the deputy alone


def test_a_relation_the_question_asks_must_be_said(norlit_service):
    # the article names Tallinn but never says it is the capital
    assert not norlit_service.ask("What is the capital of Estonia?").answered


def test_a_question_asking_for_a_name_is_declined_when_no_name_is_given(short_service):
    # the article names the service ("branded Openline") but not the department: "the physics department" is
    # no name
    assert short_service.ask("What is the name of Velmar's interactive service?").short_answer.text == "Openline"
    answer = short_service.ask("What is the name of the physics department at Harlow University?")
    assert not answer.answered and answer.short_answer is None


@pytest.mark.parametrize("question, reason", [
    ("Why did Velmar move its studios to Pellwick?", "rents in the capital had doubled"),
    ("Why did Velmar hire engineers?", "fear of falling behind its rivals"),
    # a purpose said by "to" and a verb, after what it explains or opening the sentence
    ("Why did the harbour authority at Orlen dredge the channel?", "let larger ships enter"),
    ("Why did the ferry company at the Orlen harbour close its night office?", "To cut its costs"),
])
def test_a_why_question_is_answered_by_the_clause_giving_the_reason(short_service, question, reason):
    answer = short_service.ask(question)
    assert answer.answered and answer.short_answer.text == reason


def test_a_number_the_question_writes_must_be_in_the_article(short_service):
    # a number is as particular as a name: the studios moved in 2023, not in 2019
    answer = short_service.ask("Why did Velmar move its studios to Pellwick in 2023?")
    assert answer.answered and answer.short_answer.text == "rents in the capital had doubled"
    assert not short_service.ask("Why did Velmar move its studios to Pellwick in 2019?").answered
    # up to ten, the article may spell it out ("the first nuclear reactor")
    answer = short_service.ask("What was the name of the 1st nuclear reactor built on a campus in the region?")
    assert answer.answered and answer.short_answer.text == "Harlow Pile-1"


def test_a_question_that_negates_needs_evidence_that_negates(short_service):
    answer = short_service.ask("Which company's contract did Velmar not renew?")
    assert answer.answered and answer.short_answer.text == "Corvan Foods"
    # the article only says what the society does: quoting it would answer the opposite
    assert not short_service.ask("Which student club at Harlow University does not show films?").answered
    # a yes/no question is answered by what the text asserts either way
    assert short_service.ask("Does the Reel Society at Harlow University not show films every week?").answered


def test_a_town_said_to_lie_in_a_region_is_a_place_and_the_more_precise_answer(short_service):
    # "Tarnwick, in southern Vessia": the small model takes Tarnwick for a product
    assert short_service.ask("Which town did the flood water of the Ober reach?").short_answer.text == "Tarnwick"
    assert short_service.ask("Where did the flood water of the Ober reach houses?").short_answer.text == "Tarnwick"
    assert short_service.ask("Which country did the flood water of the Ober reach?").short_answer.text == "Vessia"


def test_how_long_is_a_duration_and_a_question_in_the_present_asks_about_now(short_service):
    # not the number of drivers; not the strike of 2021, told in a report of 2025
    answer = short_service.ask("How long is the Dunmore tram strike supposed to last?")
    assert answer.short_answer.text == "four-day"
    assert short_service.ask("How many days does the Dunmore tram strike last?").short_answer.text == "four-day"
    # what is planned is said by what is planned ("is due to end"), and "when" asks for the day, not "midnight"
    assert short_service.ask("When is the Dunmore tram strike set to end?").short_answer.text == "Thursday"
    assert short_service.ask("When did the Dunmore tram drivers walk out?").short_answer.text == "Monday"
    # a date is a date even where the small model takes it for an event ("on 9 September in Brask")
    answer = short_service.ask("When will the Dunmore tram drivers and the city hold talks?")
    assert answer.short_answer.text == "9 September"


def test_a_price_is_a_sum_and_the_question_s_own_company_is_not_the_answer(short_service):
    answer = short_service.ask("What price per tonne did Brisk Mills agree to pay for the soft wheat?")
    assert answer.short_answer.text == "210 dlrs"  # not the tonnes it is paid for
    assert short_service.ask("How much soft wheat did Brisk Mills agree to buy?").short_answer.text == "40,000 tonnes"
    # "<Brisk Mills Ltd>" (a wire's mark-up) is the company the question names, said in full
    answer = short_service.ask("Which company agreed to sell soft wheat to Brisk Mills?")
    assert answer.short_answer.text == "Norgrain Co"


def test_two_articles_agreeing_on_a_number_as_common_as_one_is_no_evidence(short_service):
    # both reports say "at least one worker"; only one gives the damage
    answer = short_service.ask("How much damage did the fire at the Brisk Mills flour plant cause?")
    assert answer.short_answer.text == "estimated 2 mln dlrs"


def test_names_the_small_model_gets_wrong_around_numbers(short_service):
    # "fourteen Vice Rectors" counts the Vice Rectors the question names: not a number inside its subject's name
    assert short_service.ask("How many Vice Rectors are in the Board of Governors?").short_answer.text == "fourteen"
    # "4th century BC": the era of a date, which the small model takes for a firm
    answer = short_service.ask("Who was a man studying the properties of salts in Old Marlow?")
    assert answer.short_answer.text == "Halon of Tyrrus"


def test_an_acronym_the_question_uses_is_a_name_the_article_spells_out(short_service):
    answer = short_service.ask("What did the CMA rule about the Orlen harbour strike?")
    assert answer.answered and "The Court of Maritime Appeals ruled that the strike was lawful." in answer.answer
    assert answer.short_answer is None  # the court is what the question names, not its answer
    assert not short_service.ask("What did the CMX rule about the Orlen harbour strike?").answered


def test_a_name_the_question_gives_in_full_stands_whole_in_the_article(short_service):
    answer = short_service.ask("In what year did Mara Lind found Marlow College?")
    assert answer.answered and answer.short_answer.text == "1921"
    # both words are in the article, but of two people
    assert not short_service.ask("In what year did Mara Thal found Marlow College?").answered
    # or of two firms; "X of Y" names two things, each whole in the article (Marlow College in its title)
    assert not short_service.ask("How much soft wheat did Norgrain Mills agree to buy?").answered
    answer = short_service.ask("How many members does the Board of Governors of Marlow College have?")
    assert answer.short_answer.text == "40"


def test_what_happened_to_a_thing_is_what_the_text_says_was_done_to_it(short_service):
    # "The old cranes were closed in 2019": the verb after the thing, not the year
    assert short_service.ask("What happened to the old cranes at Orlen harbour?").short_answer.text == "closed"


def test_to_do_what_is_answered_by_a_verb_and_what_it_acts_on(short_service):
    # "To cut its costs, the ferry company closed its night office."
    answer = short_service.ask("The ferry company at Orlen closed its night office to do what?")
    assert answer.short_answer.text == "cut its costs"


def test_the_question_s_words_in_another_clause_stand_further_off(short_service):
    # "a branch in Orbeck, which opened in 2014, and a branch in Tarlen which opened in 2016"
    assert short_service.ask("What year did Marlow College open a branch in Tarlen?").short_answer.text == "2016"
    assert short_service.ask("What year did Marlow College open a branch in Orbeck?").short_answer.text == "2014"


def test_a_question_about_the_next_of_something_needs_evidence_of_what_is_to_come(short_service):
    assert short_service.ask("When did the ferry crews at Orlen harbour hold a stoppage?").short_answer.text == "April"
    # the stoppage that was held does not say when the next one will be
    assert not short_service.ask("When will the ferry crews at Orlen harbour hold their next stoppage?").answered
    answer = short_service.ask("When will the upcoming grain terminal at Orlen harbour open?")
    assert answer.answered and answer.short_answer.text == "1 March 2025"  # "will open on 1 March 2025"


def test_when_no_sentence_dates_what_was_done_the_report_date_answers(short_service):
    answer = short_service.ask("When did the Kaldor city council approve the bridge plan?")
    assert answer.answered and answer.short_answer.text == "2024-05-02"
    assert answer.answer.endswith("No sentence gives its date; the report is dated 2024-05-02. [1]")
    assert answer.citations[0].passage.article_id == "kaldor-bridge"
    # a date the text gives is the answer itself; what is planned is never dated by the report
    assert short_service.ask("When is the Kaldor bridge due to open?").short_answer.text == "2027"


def test_who_is_a_title_and_a_name_asks_what_the_text_calls_the_person(analyzer):
    from rag.answer import asks_who_someone_is

    assert asks_who_someone_is(analyzer.question("Who is Vice-Minister Pak Myong Ho?"))
    assert asks_who_someone_is(analyzer.question("Who is Foreign Minister Dario Kellan?"))
    assert not asks_who_someone_is(analyzer.question("Who is the Vice-Minister?"))  # a person holding it


def test_a_short_answer_never_ends_in_a_conjunction_the_small_model_left_in_it(analyzer):
    from rag.answer import _strip_determiners

    text = "Greece has called an export tender for 40,000 tonnes of white sugar for May, June, July and August shipment."
    dates = [text[e.start:e.end] for s in analyzer.articles([text])[0] for e in s.entities if e.label == "DATE"]
    assert "May, June, July and" in dates  # the small model cuts the list before its last item
    assert _strip_determiners("May, June, July and") == "May, June, July"
    assert _strip_determiners("Switzerland and the Netherlands") == "Switzerland and the Netherlands"


def test_a_name_is_written_with_a_capital(analyzer):
    # the small model types "cts" (cents) in a results table as a firm: no candidate for "which company"
    from rag.answer import _spans_of_type

    text = "Bellgate Corp bought a 50 pct stake. Shr 77 cts vs 37 cts Net 13.5 mln vs 4.8 mln."
    sentences = analyzer.articles([text])[0]
    assert any(e.label == "ORG" and text[e.start:e.end] == "cts" for s in sentences for e in s.entities)
    found = [text[e.start:e.end] for s in sentences
             for e in _spans_of_type(s, text, frozenset({"ORG"}), "company", False)]
    assert "Bellgate Corp" in found and "cts" not in found


def test_a_wire_table_line_gives_this_period_s_figure_for_the_line_the_question_names(analyzer):
    from rag.answer import _compared, other_words, stem

    text = "Shr 41 cts vs 39 cts\n Net 22.3 mln vs 20.4 mln\n Revs 631.1 mln vs 644.8 mln\n"
    sentences = analyzer.articles([text])[0]

    def figures(*words):
        said = {r for w in words for r in (stem(w), *other_words().get(stem(w), ()))}
        return [text[s.start:s.end] for sentence in sentences for s in _compared(sentence, text, said)]

    assert figures("net", "income") == ["22.3 mln"]
    assert figures("revenue") == ["631.1 mln"]  # "Revs", as the lexicon says it
    assert figures("earn") == ["22.3 mln"]  # earnings: the net
    assert figures("dividend") == []


@pytest.mark.parametrize("text, reason", [
    ("The order was aimed at preventing large investors from manipulating the exchange.",
     "preventing large investors from manipulating the exchange"),
    ("The agency cited concerns over the company's asset quality.", "the company's asset quality"),
    ("Workers began a three-day strike over pay, halting most trains.", "pay"),
    ("The bank cut rates in an effort to revive lending.", "revive lending"),
])
def test_news_ways_of_giving_a_reason_or_a_purpose(analyzer, text, reason):
    from rag.answer import REASON, _reasons

    sentence = analyzer.articles([text])[0][0]
    assert [(text[s.start:s.end], s.label) for s in _reasons(sentence, text)] == [(reason, REASON)]


def test_a_phrase_of_several_words_is_looked_up_in_the_lexicon_whole(analyzer):
    from rag.answer import question_words, stem

    said = question_words(analyzer.question("Who is in charge of the museum?"))[stem("charge")]
    assert stem("director") in said and stem("head") in said
    assert stem("director") not in question_words(analyzer.question("Who was charged with the theft?"))[stem("charge")]
    assert stem("released") in question_words(analyzer.question("When did the game come out?"))[stem("come")]
    assert stem("come") not in question_words(analyzer.question("When did the minister come to Tarsk?"))
