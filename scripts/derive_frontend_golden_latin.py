#!/usr/bin/env python3
"""Derive tests/text/data/golden_es.json and golden_fr.json by running upstream MeloTTS's own Spanish and
French front-end code (no openvoice_tt code), over the corpora below.

What runs is upstream's: `melo/text/spanish.py` / `french.py` (`text_normalize` = es_phonemizer/fr_phonemizer
`cleaner.py`; `g2p` = BERT word groups -> `es2ipa` / `fr2ipa` through gruut 2.2.3 with espeak lexicons,
`distribute_phone`, pads; French `remove_consecutive_t`), `melo/text/__init__.py` `cleaned_text_to_sequence`
(tone start ES 12 / FR 13, language id ES 5 / FR 6) and `melo/commons.py` `intersperse` (blank 0), then the
word2ph doubling of `melo/utils.py` `get_text_for_tts_infer` (add_blank: x2, [0] += 1). The only stand-in:
upstream's module-level `AutoTokenizer.from_pretrained(model_id)` (a hub download) is answered with a
Hugging Face `BertTokenizerFast` over the synthetic vocabulary tests/text/data/vocab_<lang>.txt with the real
model's settings from tests/text/data/tokenizer_config_<lang>.json (ES: lower-case, keep accents; FR: cased,
keep accents; see /work/notes/golden24.md for the sources). The slow `BertTokenizer` must agree token for
token, and upstream's own BERT length check (tokens + 2 == len(word2ph)) must hold, or the script stops.
Ids use tests/text/data/melo_symbols.json, which must equal upstream's `symbols.py` list.

Each case records: text, normalized (upstream text_normalize), tokens (WordPiece), phones / tones (space
separated, with the "_" pads), word2ph (per token incl. [CLS]/[SEP] pads, before blanks), phone_ids,
tone_ids, language_ids (after add_blank), word2ph_blank (doubled, [0] += 1), upstream_reads_right and,
when false, reason (why upstream's reading is wrong; judged by reading its phones: text-handling errors
such as elisions spelled as letter names, numbers split at separators, symbols dropped or garbled,
abbreviations spelled. gruut's own per-word pronunciations, e.g. French liaison consonants on isolated
words or the "lə-" clitic mark, are upstream's reading and the model was trained on them: they count as
reading right).

Re-run (from the repository root; /work/upstream-venv has gruut[es,fr]==2.2.3 and transformers==4.46.3):
  mkdir -p /tmp/melotts && for f in $(git --git-dir=<MeloTTS mirror> ls-tree -r --name-only 2091453 \
      melo/text melo/commons.py); do mkdir -p /tmp/melotts/$(dirname $f); \
      git --git-dir=<MeloTTS mirror> show 2091453:$f > /tmp/melotts/$f; done   # or a plain checkout
  /work/upstream-venv/bin/python scripts/derive_frontend_golden_latin.py /tmp/melotts [--write-vocab]
--write-vocab first rebuilds vocab_es.txt / vocab_fr.txt from the corpora (deterministic); without it the
committed vocabularies are used. Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "text" / "data"
SYMBOLS = DATA / "melo_symbols.json"
MODEL_IDS = {"es": "dccuchile/bert-base-spanish-wwm-uncased", "fr": "dbmdz/bert-base-french-europeana-cased"}
UPSTREAM_CODE = {"es": "ES", "fr": "FR"}  # upstream's language_str
LEFT_OUT_OF_VOCAB = {"♥"}  # so that one case per language exercises [UNK] -> phone "UNK"
SPECIAL = ["[PAD]", *(f"[unused{i}]" for i in range(99)), "[UNK]", "[CLS]", "[SEP]", "[MASK]"]  # bert-base ids

REASONS = {
    "es": {
        "THOUSANDS": "thousands separator: the tokenizer splits '1.000' at the dot, so each digit group is read "
        "as a number of its own with a pause ('uno . cero')",
        "DECIMAL": "decimal comma: '1,5' is split at the comma and read 'uno, cinco' (a pause, no 'coma')",
        "ORDINAL": "ordinal: '3.ª' and '1º' are not read as 'tercera' / 'primer' (gruut gives 'tres . d' and 'bo')",
        "PERCENT": "'%' is not read 'por ciento': gruut turns it into a stray 'd' phone",
        "EURO": "'€' is not read 'euros': gruut gives a stray 'd' ('30 €'), and '5€' glued is read 'bo'",
        "DOLLAR": "'$' is replaced by '.' in upstream's cleaner: a pause where 'dólares' should be",
        "AT": "'@' is read as a stray 'd' phone, not 'arroba'; the address's dot becomes a pause",
        "ABBREV": "abbreviation not expanded: read as letters or as a non-word ('sr.' -> 'ese erre', "
        "'dr.' -> 'dr', 'ee. uu.' -> 'e . u')",
        "TILDE": "'~' becomes '-' in upstream's cleaner and gruut reads it as a stray 'd' phone",
        "UNKNOWN": "'♥' is not in the BERT vocabulary: its word is [UNK] and becomes the phone UNK",
        "LEXICON": "gruut misreads 'kiwi' as 'xixi'",
    },
    "fr": {
        "ELISION": "elision: the tokenizer splits l'/j'/d'/n'/c'/m'/t'/s' at the apostrophe and gruut reads the lone "
        "consonant as its letter name (l' -> 'ɛl', d' -> 'de', j' -> 'ʒi')",
        "AUJOURDHUI": "'aujourd'hui' is split into 'aujourd' + 'hui' and read 'oʒuʁ yi' (the d and ɥ are lost)",
        "CURLY": "typographic apostrophe: upstream's cleaner deletes '’', so 'c’est' becomes 'cest' read 'sɛst'",
        "THOUSANDS": "thousands separator (space): '1 000' is read 'un zéro', '2 500 000' 'deux cinq cents zéro'",
        "DECIMAL": "decimal comma: '1,5' is split at the comma and read 'un, cinq' (a pause, no 'virgule')",
        "TIME": "'12 h 30': the 'h' is read as the letter name 'ache', not 'heures'",
        "ELISION+ORDINAL": "elision c' read as the letter name 'sé', and '3e' read 'iː' instead of 'troisième'",
        "PERCENT": "'%' is not read 'pour cent': gruut gives the letter name 'ɛf'",
        "EURO": "'€' is not read 'euros': gruut gives 'ɛf' ('30 €'), and '5€' glued is read 'e'",
        "DOLLAR": "'$' is replaced by '.' in upstream's cleaner: a pause where 'dollars' should be",
        "AT": "'@' is read 'ɛf', not 'arobase', and 'fr' is spelled",
        "ABBREV": "abbreviation not expanded: 'Dr' spelled 'dé erre', 'p. ex.' read 'pé . exemple'",
        "ELISION+UNKNOWN": "elision t' read as the letter name 'té', and '♥' is not in the BERT vocabulary "
        "([UNK] -> phone UNK)",
    },
}

CORPUS = {
    "es": [
        ("¿Dónde está la estación?", None),
        ("La casa es muy bonita.", None),
        ("Mañana vamos a la playa con mis amigos.", None),
        ("El niño juega en el jardín.", None),
        ("Mi madre cocina una paella deliciosa.", None),
        ("¿Cómo te llamas?", None),
        ("¡Qué sorpresa tan agradable!", None),
        ("El perro duerme bajo la mesa.", None),
        ("Hoy hace mucho calor en Sevilla.", None),
        ("Me gusta leer libros de historia.", None),
        ("La señora compró pan y leche.", None),
        ("Los pájaros cantan por la mañana.", None),
        ("¿Quieres un café con azúcar?", None),
        ("El tren sale a las ocho.", None),
        ("Vivimos en un pequeño pueblo de montaña.", None),
        ("La película fue larga pero interesante.", None),
        ("¡Cuidado con el escalón!", None),
        ("El médico me recomendó descansar.", None),
        ("Nuestro equipo ganó el partido.", None),
        ("¿Por qué no vienes a cenar?", None),
        ("La música clásica me relaja.", None),
        ("El invierno en Madrid es frío y seco.", None),
        ("Ella habla español, inglés y francés.", None),
        ("Los niños aprenden rápido.", None),
        ("El año pasado viajamos a Perú.", None),
        ("¿Has visto mis llaves?", None),
        ("El camión transportaba naranjas.", None),
        ("La canción terminó con un aplauso.", None),
        ("Compré zapatos nuevos en la tienda.", None),
        ("El corazón late más deprisa cuando corres.", None),
        ("¡Feliz cumpleaños, querida abuela!", None),
        ("La cigüeña construyó su nido en la torre.", None),
        ("El pingüino vive en el hemisferio sur.", None),
        ("Siento vergüenza cuando hablo en público.", None),
        ("El búho caza por la noche.", None),
        ("La lámpara está encendida.", None),
        ("Él no sabía qué decir.", None),
        ("Tú tienes razón, pero yo también.", None),
        ("La educación pública es importante.", None),
        ("El águila vuela sobre el valle.", None),
        ("Necesitamos más información sobre el proyecto.", None),
        ("La jirafa tiene el cuello muy largo.", None),
        ("El acueducto de Segovia es antiguo.", None),
        ("Mi hermano trabaja en una oficina.", None),
        ("¿Cuántos años tienes?", None),
        ("La universidad está cerca del río.", None),
        ("El zorro y la liebre corrieron por el campo.", None),
        ("Guillermo regaló flores a su novia.", None),
        ("La guitarra española suena muy bien.", None),
        ("Esta mañana llovió muchísimo.", None),
        ("El fútbol es el deporte más popular.", None),
        ("Ayer comimos tortilla de patatas.", None),
        ("La exposición abre sus puertas el lunes.", None),
        ("El examen fue más fácil de lo que pensaba.", None),
        ("Quiero aprender a nadar este verano.", None),
        ("Hacia el norte hacía mucho frío.", None),
        ("La película ganó varios premios.", None),
        ("Los científicos descubrieron una nueva especie.", None),
        ("El ayuntamiento reparará la carretera.", None),
        ("¡Ojalá llueva pronto!", None),
        ("Buenos días, ¿cómo está usted?", None),
        ("El ratón se escondió detrás del sofá.", None),
        ("Antonio y Beatriz se casaron en junio.", None),
        ("La extraordinaria arquitectura de Barcelona atrae a turistas.", None),
        ("El electrocardiograma salió normal.", None),
        ("Desafortunadamente, el vuelo fue cancelado.", None),
        ("La otorrinolaringóloga atiende los martes.", None),
        ("Es una responsabilidad internacional.", None),
        ("Los ferrocarriles cruzan la cordillera.", None),
        ("Esta contraseña es incomprensible.", None),
        ("BARCELONA ES UNA CIUDAD PRECIOSA.", None),
        ("El Museo del Prado está en Madrid.", None),
        ("La ONU celebró una reunión.", None),
        ("Trabajo en la NASA desde hace años.", None),
        ("Mi amigo Juan vive en Buenos Aires.", None),
        ("El Real Madrid jugó contra el Barcelona.", None),
        ("Nací en 1985.", None),
        ("La guerra terminó en 1939.", None),
        ("Estamos en el año 2024.", None),
        ("Tengo 3 hermanos y 2 hermanas.", None),
        ("El edificio tiene 25 pisos.", None),
        ("Había 100 personas en la sala.", None),
        ("Cuesta 15 euros.", None),
        ("El libro tiene 350 páginas.", None),
        ("La ciudad tiene 1.000 habitantes.", "THOUSANDS"),
        ("Más de 2.500.000 personas votaron.", "THOUSANDS"),
        ("Pesa 1,5 kilos.", "DECIMAL"),
        ("La temperatura bajó a 3,7 grados.", "DECIMAL"),
        ("El tren llega a las 12:30.", None),
        ("El 1 de enero es festivo.", None),
        ("Vivo en la calle Mayor, número 7.", None),
        ("Es la 3.ª vez que lo digo.", "ORDINAL"),
        ("Llegó en 1º lugar.", "ORDINAL"),
        ("Mi número es 600 123 456.", None),
        ("Sumamos 7 y 8.", None),
        ("El descuento es del 20%.", "PERCENT"),
        ("El 50 % de los alumnos aprobó.", "PERCENT"),
        ("Cuesta 30 €.", "EURO"),
        ("El precio es de 5€.", "EURO"),
        ("Pagué $20 por la entrada.", "DOLLAR"),
        ("Cuesta 10 dólares o 8 libras.", None),
        ("Tom & Jerry es una serie antigua.", None),
        ("Escríbeme a juan@correo.es.", "AT"),
        ("El Sr. García llegó tarde.", "ABBREV"),
        ("La Sra. Pérez es profesora.", "ABBREV"),
        ("El Dr. Martínez me atendió.", "ABBREV"),
        ("Trae frutas, p. ej. manzanas.", "ABBREV"),
        ("Vive en EE. UU. desde 2010.", "ABBREV"),
        ("Lo dijo el prof. Ruiz.", "ABBREV"),
        ("Etc. significa etcétera.", "ABBREV"),
        ("Él dijo: «Ven aquí».", None),
        ('Ella respondió: "No quiero".', None),
        ("Me llamó 'tonto' en broma.", None),
        ("Pues bien... ya veremos.", None),
        ("Esperé y esperé…", None),
        ("No sé —dijo ella— si vendrá.", None),
        ("Compramos un coche-cama para el viaje.", None),
        ("Es una relación calidad-precio buena.", None),
        ("El diccionario (muy antiguo) estaba roto.", None),
        ("Tenemos tres opciones: rojo, verde y azul.", None),
        ("Primero comemos; después, paseamos.", None),
        ("¿Vienes? ¡Claro que sí!", None),
        ("¡¿En serio?!", None),
        ("Hola... ¿hay alguien?", None),
        ("Sí, sí, ya lo sé.", None),
        ("Bueno, pues, vamos.", None),
        ("¡Ay, qué dolor!", None),
        ("Oye, ¿me pasas la sal?", None),
        ('La palabra "paraguas" es compuesta.', None),
        ("El término [citado] aparece aquí.", None),
        ("Sonrió ~ y se fue.", "TILDE"),
        ("Te quiero ♥ mucho.", "UNKNOWN"),
        ("El lunes, martes y miércoles trabajo.", None),
        ("Hay que cuidar el medio ambiente.", None),
        ("Los ciudadanos exigen transparencia.", None),
        ("La bibliotecaria organizó los libros.", None),
        ("El agua del lago está cristalina.", None),
        ("Ñoño es una palabra curiosa.", None),
        ("El muñeco de nieve se derritió.", None),
        ("El otoño trae hojas doradas.", None),
        ("Los campeones celebraron la victoria.", None),
        ("La cafetería abre a las siete.", None),
        ("Mi abuelo cuenta historias fascinantes.", None),
        ("Los exámenes empiezan pronto.", None),
        ("Ese chico es un genio.", None),
        ("Quiero un helado de chocolate.", None),
        ("El cielo está despejado hoy.", None),
        ("Hay un gato negro en el tejado.", None),
        ("La reunión será en la sala de juntas.", None),
        ("Camina despacio por la acera.", None),
        ("Whisky y sándwich son préstamos del inglés.", None),
        ("El kiwi es una fruta verde.", "LEXICON"),
    ],
    "fr": [
        ("Bonjour, comment allez-vous ?", None),
        ("Le chat dort sur le canapé.", None),
        ("Nous allons au marché demain matin.", None),
        ("La maison est très grande.", None),
        ("Il fait beau aujourd'hui.", "AUJOURDHUI"),
        ("Mon frère travaille à Paris.", None),
        ("Elle parle français et allemand.", None),
        ("Les enfants jouent dans le jardin.", None),
        ("Je voudrais un café, s'il vous plaît.", "ELISION"),
        ("Quelle belle journée !", None),
        ("Le train part à huit heures.", None),
        ("Nous avons mangé une bonne soupe.", None),
        ("La voiture rouge est garée devant la porte.", None),
        ("Tu viens avec nous ?", None),
        ("Ma mère prépare le dîner.", None),
        ("Le soleil brille sur la mer.", None),
        ("Les oiseaux chantent le matin.", None),
        ("Cette ville est magnifique.", None),
        ("Il pleut depuis trois jours.", None),
        ("Mon père lit le journal.", None),
        ("Nous habitons près de la gare.", None),
        ("Le musée ouvre ses portes lundi.", None),
        ("Les fleurs du printemps sont belles.", None),
        ("Ce livre raconte une histoire vraie.", None),
        ("La forêt est calme et silencieuse.", None),
        ("Pierre et Marie sont partis en vacances.", None),
        ("Le professeur explique la leçon.", None),
        ("Le garçon mange une pomme.", None),
        ("Elle porte une robe bleue.", None),
        ("Le chien court dans le parc.", None),
        ("Nous regardons un film ce soir.", None),
        ("Le boulanger vend du pain frais.", None),
        ("La neige tombe doucement.", None),
        ("Je pense donc je suis.", None),
        ("Le médecin soigne les malades.", None),
        ("Votre fille chante très bien.", None),
        ("Le ciel est gris ce matin.", None),
        ("Les élèves écoutent attentivement.", None),
        ("Le théâtre présente une pièce célèbre.", None),
        ("La fenêtre donne sur la rue.", None),
        ("Où se trouve la bibliothèque ?", None),
        ("Pourquoi pleures-tu ?", None),
        ("Quel âge as-tu ?", None),
        ("Je suis très fatigué ce soir.", None),
        ("Le bébé sourit à sa mère.", None),
        ("Noël approche à grands pas.", None),
        ("Il a reçu une lettre de sa sœur.", None),
        ("Le cœur a ses raisons.", None),
        ("Nous mangeons des crêpes à la Chandeleur.", None),
        ("La tâche est difficile mais possible.", None),
        ("Ce garçon est naïf.", None),
        ("Le maïs pousse dans le champ.", None),
        ("Il a goûté le gâteau au chocolat.", None),
        ("La forêt brûle depuis hier.", None),
        ("Les hôpitaux manquent de personnel.", None),
        ("Voilà la clé de la maison.", None),
        ("Le château se trouve sur la colline.", None),
        ("Cette histoire est extraordinaire.", None),
        ("Les anticonstitutionnellement longues phrases fatiguent.", None),
        ("Le gouvernement a annoncé des réformes.", None),
        ("La révolution industrielle a transformé l'Europe.", "ELISION"),
        ("Les télécommunications évoluent rapidement.", None),
        ("PARIS EST LA CAPITALE DE LA FRANCE.", None),
        ("La Tour Eiffel attire des millions de visiteurs.", None),
        ("Victor Hugo a écrit Les Misérables.", None),
        ("La SNCF annonce des retards.", None),
        ("L'école est fermée aujourd'hui.", "ELISION"),
        ("J'ai faim.", "ELISION"),
        ("L'homme marche vite.", "ELISION"),
        ("Je n'ai pas le temps.", "ELISION"),
        ("C'est une bonne idée.", "ELISION"),
        ("Il m'a dit qu'il viendrait.", "ELISION"),
        ("D'accord, on y va.", "ELISION"),
        ("Qu'est-ce que tu fais ?", None),
        ("Il s'appelle Jean.", "ELISION"),
        ("L'été dernier, j'étais en Espagne.", "ELISION"),
        ("Aujourd'hui, c'est mon anniversaire.", "ELISION"),
        ("Je t'aime.", "ELISION"),
        ("Elle n'est pas là.", "ELISION"),
        ("Jusqu'à demain.", None),
        ("Il y a beaucoup d'eau.", "ELISION"),
        ("C’est l’heure de partir.", "CURLY"),
        ("J’habite à Lyon.", None),
        ("Il est né en 1985.", None),
        ("La guerre a fini en 1945.", None),
        ("Nous sommes en 2024.", None),
        ("J'ai 3 frères.", "ELISION"),
        ("Il y a 25 élèves dans la classe.", None),
        ("Le livre coûte 15 euros.", None),
        ("La ville compte 1 000 habitants.", "THOUSANDS"),
        ("La ville compte 1000 habitants.", None),
        ("Plus de 2 500 000 personnes ont voté.", "THOUSANDS"),
        ("Il pèse 1,5 kilo.", "DECIMAL"),
        ("La température est de 3,7 degrés.", "DECIMAL"),
        ("Le train arrive à 12 h 30.", "TIME"),
        ("Le 14 juillet est un jour férié.", None),
        ("C'est la 3e fois.", "ELISION+ORDINAL"),
        ("Il est arrivé 1er.", None),
        ("Mon numéro est le 06 12 34 56 78.", None),
        ("Nous avons 100 ans.", None),
        ("Il habite au 7 rue de la Paix.", None),
        ("Le prix a baissé de 20%.", "PERCENT"),
        ("La moitié, soit 50 %, a voté.", "PERCENT"),
        ("Ça coûte 30 €.", "EURO"),
        ("Le billet coûte 5€.", "EURO"),
        ("Il a payé $20.", "DOLLAR"),
        ("Tom & Jerry est un dessin animé.", None),
        ("Écrivez à jean@mail.fr.", "AT"),
        ("M. Dupont est arrivé.", None),
        ("Mme Martin est professeure.", None),
        ("Mlle Durand chante bien.", None),
        ("Le Dr Leroy consulte le mardi.", "ABBREV"),
        ("Prenez des fruits, p. ex. des pommes.", "ABBREV"),
        ("Il a dit : « Viens ici ».", None),
        ('Elle a répondu : "Non merci".', None),
        ("« Bonjour », dit-il.", None),
        ("Eh bien... on verra.", None),
        ("J'ai attendu…", "ELISION"),
        ("Il est parti — sans rien dire.", None),
        ("C'est un rendez-vous important.", "ELISION"),
        ("Le porte-monnaie est vide.", None),
        ("Le grand-père raconte des histoires.", None),
        ("Nous avons trois choix : rouge, vert et bleu.", None),
        ("D'abord on mange ; ensuite, on se promène.", "ELISION"),
        ("Tu viens ? Bien sûr !", None),
        ("Vraiment ?!", None),
        ("Oui, oui, je sais.", None),
        ("Le mot (très ancien) a disparu.", None),
        ("Le terme [cité] apparaît ici.", None),
        ("Il sourit ~ puis s'en va.", "ELISION"),
        ("Je t'aime ♥ beaucoup.", "ELISION+UNKNOWN"),
        ("Les étudiants préparent leurs examens.", None),
        ("La boulangerie ouvre à sept heures.", None),
        ("Les pompiers ont éteint l'incendie.", "ELISION"),
        ("Mon grand-père avait une ferme.", None),
        ("Le printemps arrive bientôt.", None),
        ("La chanson parle d'amour.", "ELISION"),
        ("Le vent souffle fort sur la côte.", None),
        ("Les montagnes sont couvertes de neige.", None),
        ("Elle achète des légumes au marché.", None),
        ("Nous partons en voyage demain.", None),
        ("Le week-end, nous allons à la campagne.", None),
        ("Il boit un verre de vin rouge.", None),
        ("Les feuilles tombent en automne.", None),
        ("Le spectacle commence à vingt heures.", None),
        ("Ma sœur étudie la médecine.", None),
        ("La réunion aura lieu mardi prochain.", None),
        ("Cette chambre est très lumineuse.", None),
        ("Mes parents habitent en Bretagne.", None),
        ("Le facteur apporte le courrier.", None),
    ],
}


def upstream_definitions(source: Path, names: set[str]) -> ast.Module:
    """The top-level functions called `names` in an upstream file, unexecuted (to skip its imports)."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    keep = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
    return ast.Module(body=keep, type_ignores=[])


def tokenizer_settings(lang: str) -> dict:
    config = json.loads((DATA / f"tokenizer_config_{lang}.json").read_text(encoding="utf-8"))
    return {"do_lower_case": config["do_lower_case"], "strip_accents": config["strip_accents"]}


def corpus_words(lang: str, normalize) -> list[str]:
    """The words (BERT basic tokenization of the normalized corpus) in first-seen order."""
    from transformers.models.bert.tokenization_bert import BasicTokenizer

    basic = BasicTokenizer(**tokenizer_settings(lang))
    seen: dict[str, None] = {}
    for text, _ in CORPUS[lang]:
        for word in basic.tokenize(normalize(text)):
            seen.setdefault(word, None)
    return list(seen)


def build_vocab(lang: str, words: list[str]) -> list[str]:
    """Special tokens at bert-base's ids, single characters and their ## continuations, then each corpus
    word whole, in two pieces or in three (chosen by a hash of the word), so that word2ph is spread over
    one, two and three tokens. Characters in LEFT_OUT_OF_VOCAB stay out: their words become [UNK]."""
    chars: dict[str, None] = {}
    for word in words:
        for ch in word:
            if ch not in LEFT_OUT_OF_VOCAB:
                chars.setdefault(ch, None)
    vocab = list(SPECIAL) + sorted(chars) + sorted("##" + c for c in chars)
    pieces: dict[str, None] = {}
    for word in words:
        if len(word) < 2 or not word.isalnum() or set(word) & LEFT_OUT_OF_VOCAB:
            continue
        choice = zlib.crc32(word.encode("utf-8")) % 20
        if choice < 9 or len(word) < 3:
            split = [word]
        elif choice < 16:
            k = len(word) // 2
            split = [word[:k], word[k:]]
        else:
            a, b = len(word) // 3, 2 * len(word) // 3
            split = [word[:a], word[a:b], word[b:]]
        for i, piece in enumerate(split):
            pieces.setdefault(piece if i == 0 else "##" + piece, None)
    known = set(vocab)
    return vocab + [p for p in pieces if p not in known]


def make_tokenizers(lang: str):
    from transformers import BertTokenizer, BertTokenizerFast

    vocab = str(DATA / f"vocab_{lang}.txt")
    settings = tokenizer_settings(lang)
    return BertTokenizerFast(vocab_file=vocab, **settings), BertTokenizer(vocab_file=vocab, **settings)


def intersperse(ns: dict, items: list[int]) -> list[int]:
    return ns["intersperse"](items, 0)


def derive(lang: str, melotts: Path, symbols: list[str], write_vocab: bool) -> list[dict]:
    import transformers

    if write_vocab:  # the cleaner needs no tokenizer: normalize with upstream's cleaner module directly
        cleaner = importlib.import_module(f"melo.text.{lang}_phonemizer.cleaner")
        normalize = cleaner.spanish_cleaners if lang == "es" else cleaner.french_cleaners
        vocab = build_vocab(lang, corpus_words(lang, normalize))
        (DATA / f"vocab_{lang}.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
        print(f"vocab_{lang}.txt: {len(vocab)} tokens")

    fast, slow = make_tokenizers(lang)

    def from_pretrained(model_id, *args, **kwargs):
        if model_id != MODEL_IDS[lang]:
            raise SystemExit(f"upstream asked for {model_id!r}, expected {MODEL_IDS[lang]!r}")
        return fast

    transformers.AutoTokenizer.from_pretrained = from_pretrained
    module = importlib.import_module("melo.text.spanish" if lang == "es" else "melo.text.french")
    text_pkg = importlib.import_module("melo.text")
    if list(text_pkg.symbols) != symbols:
        raise SystemExit("tests/text/data/melo_symbols.json differs from upstream's melo/text/symbols.py")
    ns: dict = {}
    exec(compile(upstream_definitions(melotts / "melo" / "commons.py", {"intersperse"}), "commons.py", "exec"), ns)
    code = UPSTREAM_CODE[lang]
    symbol_to_id = {s: i for i, s in enumerate(symbols)}  # melo/api.py: from the checkpoint's symbols

    cases = []
    for text, reason_code in CORPUS[lang]:
        normalized = module.text_normalize(text)
        tokens = fast.tokenize(normalized)
        if slow.tokenize(normalized) != tokens:
            raise SystemExit(f"fast and slow BertTokenizer disagree on {normalized!r}")
        phones, tones, word2ph = module.g2p(normalized)
        if len(fast(normalized)["input_ids"]) != len(word2ph):  # upstream's assert in *_bert.get_bert_feature
            raise SystemExit(f"upstream's BERT length check fails on {text!r}")
        phone_ids, tone_ids, language_ids = text_pkg.cleaned_text_to_sequence(phones, tones, code, symbol_to_id)
        word2ph_blank = [2 * w for w in word2ph]
        word2ph_blank[0] += 1
        case = {
            "text": text,
            "normalized": normalized,
            "tokens": tokens,
            "phones": " ".join(phones),
            "tones": " ".join(map(str, tones)),
            "word2ph": word2ph,
            "phone_ids": intersperse(ns, phone_ids),
            "tone_ids": intersperse(ns, tone_ids),
            "language_ids": intersperse(ns, language_ids),
            "word2ph_blank": word2ph_blank,
            "upstream_reads_right": reason_code is None,
        }
        if reason_code is not None:
            case["reason"] = REASONS[lang][reason_code]
        if sum(word2ph_blank) != len(case["phone_ids"]):
            raise SystemExit(f"word2ph does not cover the phones of {text!r}")
        cases.append(case)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("melotts", type=Path, help="a MeloTTS checkout (commit 2091453) holding melo/text")
    parser.add_argument("--language", choices=["es", "fr", "both"], default="both")
    parser.add_argument("--write-vocab", action="store_true", help="rebuild vocab_<lang>.txt from the corpus first")
    args = parser.parse_args()
    sys.path.insert(0, str(args.melotts))
    symbols = json.loads(SYMBOLS.read_text(encoding="utf-8"))
    for lang in ("es", "fr") if args.language == "both" else (args.language,):
        cases = derive(lang, args.melotts, symbols, args.write_vocab)
        out = DATA / f"golden_{lang}.json"
        out.write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        right = sum(c["upstream_reads_right"] for c in cases)
        print(f"{out}: {len(cases)} cases, upstream reads {right} right, {len(cases) - right} wrong")


if __name__ == "__main__":
    main()
