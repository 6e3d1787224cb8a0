"""A corpus for the token count: prose in English and other scripts, code, JSON, CJK, emoji, base64, digits and
runs of one character, written here (seeded where random) so the measurement is the same on every machine."""

from __future__ import annotations

import base64
import json
import random
import string

ENGLISH = """\
When the lighthouse keeper retired, nobody in the village expected the light to go dark. It had burned every
night for ninety years, through storms that tore the roofs off the fish market and winters when the harbour
froze so hard that children walked out to the moored boats. The council met in the back room of the bakery and
argued for three evenings about who should climb the hundred and twelve steps each dusk. In the end it was
Margaret, the schoolteacher, who said she would do it, because she already stayed late marking essays and the
tower was on her way home. She learned to trim the wick, to polish the great lens with a soft cloth and vinegar,
and to read the barometer that hung beside the door. On clear nights she sat at the top with a flask of tea and
counted the ships that passed: trawlers coming home with their decks lit, a ferry to the islands, once a tall
sailing ship that nobody could name. The children she taught began to ask her questions about the sea, about
tides and currents and why the light turned exactly once every twelve seconds, and she found that she did not
know the answers. So she wrote to the university, and a young oceanographer came to visit in the spring. He
stayed for a week, measured the water temperature at six depths, and left behind a box of books that changed
the way the whole village thought about the water on its doorstep.
"""

TECHNICAL = """\
A token is the unit a language model reads. Before a model sees your question, a tokenizer splits the text into
pieces and maps each piece to a number from its vocabulary. Common words usually become a single token, while
rare words, names and identifiers are broken into several smaller pieces. The model's context window is measured
in tokens, not characters, so the same limit holds a long English essay but only a short passage of Chinese or a
few lines of base64. If a request does not fit, the server has to decide what to drop. Some servers return an
error that explains the problem; others silently remove the oldest messages, and a few remove the newest message
too, which leaves the model answering a question nobody asked. To avoid surprises, a client can estimate the size
of a request before sending it. An estimate that is too low lets an oversized request through; an estimate that
is too high refuses questions the server would have answered. Measuring the estimate against the real tokenizer
on a varied corpus of prose, code, structured data and other scripts is the only honest way to know its error.
"""

QUESTION = """\
I am preparing a report for our operations team and would like your help to review the following notes before I
send them. Please check whether the argument is clear, whether any of the numbers contradict each other, and
whether the recommendations at the end follow from the evidence. If something is missing, tell me what I should
add, and suggest a shorter title. Here are the notes from the last three quarters of the project:
"""

FRENCH = """\
Le vieux marché couvert de la ville ouvre ses portes à six heures du matin, bien avant que les premiers
commerçants aient fini d'installer leurs étals. On y trouve des fromages affinés dans les caves de la région,
des légumes encore couverts de terre, du pain cuit au feu de bois et des fleurs que les maraîchers apportent
des collines voisines. Les habitués connaissent chaque vendeur par son prénom et savent qu'il faut arriver tôt
pour obtenir les meilleures pêches en été. Pendant la semaine, l'atmosphère est calme et presque familiale,
mais le samedi, les touristes envahissent les allées étroites, prennent des photos des paniers de cerises et
demandent des conseils pour préparer une ratatouille authentique. La municipalité a longtemps envisagé de
transformer le bâtiment en centre culturel, mais les habitants se sont mobilisés pour préserver ce lieu qui,
selon eux, représente l'âme du quartier et un lien précieux entre la campagne et la ville.
"""

GERMAN = """\
Die Stadtverwaltung hat beschlossen, die alte Straßenbahnlinie entlang des Flussufers wieder in Betrieb zu
nehmen. Nach jahrelangen Diskussionen über Kosten, Lärmschutz und Denkmalpflege sollen die ersten Wagen im
kommenden Frühjahr fahren. Die Verkehrsbetriebe versprechen eine Taktfrequenz von zehn Minuten während der
Hauptverkehrszeiten und eine durchgehende Nachtverbindung am Wochenende. Anwohnerinnen und Anwohner begrüßen
die Entscheidung überwiegend, befürchten jedoch Baustellen, Umleitungen und eingeschränkte Parkmöglichkeiten
während der Bauarbeiten. Umweltverbände weisen darauf hin, dass die Elektrifizierung des öffentlichen
Nahverkehrs einen wesentlichen Beitrag zur Verringerung der Kohlendioxidemissionen leisten könne, während
Einzelhändler in der Innenstadt auf mehr Laufkundschaft hoffen. Die Gesamtkosten des Projekts werden auf
ungefähr achtundvierzig Millionen Euro geschätzt, von denen das Land einen erheblichen Anteil übernimmt.
"""

SPANISH = """\
Cada verano, cuando el calor aprieta en la meseta, mi abuela abría todas las ventanas de la casa al
anochecer y nos contaba historias de su infancia en un pueblo de la montaña. Hablaba de los inviernos largos,
de la nieve que cubría los caminos durante semanas y de las fiestas en honor a la patrona, cuando llegaban
músicos ambulantes y los vecinos bailaban hasta la madrugada en la plaza. Nosotros escuchábamos en silencio,
sentados en el suelo fresco de baldosas, mientras las golondrinas cruzaban el cielo anaranjado. Años después
comprendí que aquellas noches no eran solo entretenimiento: eran la manera que ella tenía de conservar un
mundo que había desaparecido, de transmitirnos nombres, lugares y costumbres que de otro modo se habrían
perdido para siempre. Hoy intento hacer lo mismo con mis hijos, aunque ellos prefieren las pantallas.
"""

ITALIAN = """\
La biblioteca comunale è stata riaperta dopo due anni di lavori di restauro che hanno riportato alla luce
gli affreschi del soffitto e le scaffalature originali in legno di noce. I cittadini possono ora consultare
manoscritti antichi, carte geografiche e una collezione di fotografie che documenta la vita del paese
all'inizio del Novecento. Il direttore ha spiegato che l'obiettivo è trasformare la biblioteca in un luogo
d'incontro per tutte le generazioni, con laboratori di lettura per i bambini, corsi di informatica per gli
anziani e serate dedicate alla musica e alla poesia. Molti volontari si sono offerti di aiutare nella
catalogazione dei volumi donati dalle famiglie della zona.
"""

PORTUGUESE = """\
O pequeno porto de pesca acordou cedo com o barulho dos motores e o grito das gaivotas. Os pescadores
descarregavam caixas de sardinhas, carapaus e polvos, enquanto as mulheres negociavam os preços com os
comerciantes que vinham da cidade. Ninguém parecia ter pressa, apesar do movimento intenso: havia sempre
tempo para um café na tasca da esquina, para comentar o estado do mar e para lembrar os anos em que a
pesca era mais farta e os barcos saíam às dezenas antes do nascer do sol.
"""

POLISH = """\
Wczoraj wieczorem wybraliśmy się na spacer brzegiem jeziora, gdzie jesienią zatrzymują się klucze dzikich
gęsi. Powietrze pachniało wilgotnymi liśćmi i dymem z pobliskich domów, a nad wodą unosiła się cienka mgła.
Dzieci zbierały kasztany i żołędzie, a my rozmawialiśmy o tym, jak szybko minęło lato i ile rzeczy
chcieliśmy jeszcze zrobić przed zimą.
"""

VIETNAMESE = """\
Mỗi buổi sáng, chợ nổi trên sông bắt đầu họp từ lúc trời còn chưa sáng hẳn. Những chiếc ghe chở đầy trái
cây, rau củ và hàng hóa từ các tỉnh lân cận neo sát vào nhau, người bán treo sản phẩm lên cây sào cao để
khách ở xa cũng có thể nhìn thấy. Du khách thường thuê thuyền nhỏ đi len lỏi giữa các ghe, thưởng thức tô
hủ tiếu nóng hổi ngay trên mặt nước và ngắm nhìn cuộc sống bình dị của người dân miền Tây.
"""

TURKISH = """\
İstanbul'un eski mahallelerinde sabahları simitçilerin sesleri, martıların çığlıkları ve vapur düdükleri
birbirine karışır. Dar sokaklarda yürürken ahşap evlerin cumbalarına, küçük kahvehanelere ve yüzyıllık
çeşmelere rastlamak mümkündür. Şehrin bu yüzü, modern gökdelenlerin gölgesinde hâlâ varlığını sürdürüyor.
"""

CHINESE = """\
人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。
该领域的研究包括机器人、语言识别、图像识别、自然语言处理和专家系统等。人工智能从诞生以来，理论和技术日益成熟，
应用领域也不断扩大。可以设想，未来人工智能带来的科技产品，将会是人类智慧的容器。人工智能可以对人的意识、思维的
信息过程进行模拟。人工智能不是人的智能，但能像人那样思考，也可能超过人的智能。春天来了，公园里的花都开了，
孩子们在草地上放风筝，老人们坐在长椅上聊天，湖面上有几只小船慢慢地划过。傍晚的时候，夕阳把整个城市染成了金色，
街道两旁的小吃店飘出阵阵香味，下班的人们三三两两地走回家。
"""

JAPANESE = """\
日本の四季はそれぞれに美しく、春には桜が咲き、夏には花火大会が各地で開かれます。秋になると山々が赤や黄色に
色づき、多くの人が紅葉狩りに出かけます。冬は北国で雪が深く積もり、温泉に入りながら雪景色を楽しむことが
できます。東京のような大都市でも、少し郊外に出れば田んぼや古い神社が残っていて、昔ながらの暮らしを感じる
ことができます。最近では、外国からの観光客も増え、地方の小さな町にも英語の案内板が設置されるようになりました。
"""

KOREAN = """\
서울의 봄은 짧지만 아름답습니다. 사월이 되면 한강 주변과 여의도 공원에 벚꽃이 만개하고, 주말마다 많은
사람들이 가족이나 친구와 함께 꽃구경을 나옵니다. 저녁이 되면 강변에 돗자리를 펴고 치킨과 음료를 나누어
먹으며 이야기를 나누는 모습을 쉽게 볼 수 있습니다. 최근에는 자전거 도로가 잘 정비되어 출퇴근 시간에도
자전거를 타는 사람들이 늘어나고 있습니다.
"""

RUSSIAN = """\
Вечером мы долго сидели на веранде старого дома, пили чай с малиновым вареньем и слушали, как дождь
стучит по железной крыше. Дедушка рассказывал о войне, о том, как он мальчишкой уходил в лес за грибами,
и о первой машине, которую купил на всю деревню колхоз.
"""

GREEK = """\
Το καλοκαίρι στα νησιά του Αιγαίου είναι γεμάτο φως. Τα λευκά σπίτια με τα μπλε παράθυρα, τα μικρά λιμάνια
και οι ταβέρνες δίπλα στη θάλασσα προσελκύουν κάθε χρόνο χιλιάδες επισκέπτες.
"""

ARABIC = """\
في صباح كل يوم جمعة يجتمع سكان الحي في السوق القديم لشراء الخضروات والفواكه الطازجة، ويتبادلون الأحاديث
عن أخبار الأسبوع. تفوح رائحة الخبز الساخن والقهوة بالهيل من المحلات الصغيرة المنتشرة على جانبي الطريق.
"""

PYTHON = '''\
async def stream(self, profile: Profile, body: Mapping[str, Any], stats: StreamStats) -> AsyncIterator[str]:
    """Yield the reply's text as it arrives; raise SiteError for a reply that is not the app's text."""
    headers = {**profile.headers, "content-type": "application/json"}
    async with self._session.post(f"{profile.base_url}/api/chat", data=encode_body(body), headers=headers,
                                  timeout=self._timeouts.total) as reply:
        if reply.status != 200:
            raise SiteError(reply.status, reply.reason or "", await reply.text())
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        async for chunk in reply.content.iter_any():
            stats.bytes_received += len(chunk)
            if text := decoder.decode(chunk):
                yield text
        if tail := decoder.decode(b"", final=True):
            yield tail
'''

JAVASCRIPT = '''\
export async function fetchModels(key, signal) {
  const response = await fetch("api/models", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ key }),
    signal,
  });
  if (!response.ok) {
    throw new Error(`models: ${response.status} ${response.statusText}`);
  }
  const models = await response.json();
  return models.filter((model) => model.id && model.name).map(({ id, name }) => ({ id, name }));
}
'''

SHELL = '''\
#!/usr/bin/env bash
set -euo pipefail
for file in "$@"; do
  if [[ -f "$file" ]]; then
    sha256sum -- "$file" | awk '{print $1}' >> checksums.txt
  else
    echo "skipping $file: not a regular file" >&2
  fi
done
'''


def corpus() -> dict[str, str]:
    """Name -> text. Each text is a few hundred tokens or more, so a 10% margin is a margin, not rounding."""
    rng = random.Random(23)

    def pick(alphabet: str, size: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(size))

    records = [{"id": i, "name": pick(string.ascii_lowercase, 8), "score": round(rng.uniform(0, 100), 3),
                "tags": [pick(string.ascii_lowercase, 5) for _ in range(3)], "active": i % 2 == 0}
               for i in range(40)]
    texts = {
        "english narrative": ENGLISH * 3,
        "english technical": TECHNICAL * 3,
        "english question": QUESTION + ENGLISH + TECHNICAL,
        "french": FRENCH * 2, "german": GERMAN * 2, "spanish": SPANISH * 2, "italian": ITALIAN * 2,
        "portuguese": PORTUGUESE * 3, "polish": POLISH * 4, "vietnamese": VIETNAMESE * 4, "turkish": TURKISH * 4,
        "python": PYTHON * 3, "javascript": JAVASCRIPT * 3, "shell": SHELL * 4,
        "json compact": json.dumps(records, separators=(",", ":")),
        "json indented": json.dumps(records, indent=2),
        "chinese": CHINESE * 3, "japanese": JAPANESE * 3, "korean": KOREAN * 3,
        "cjk mixed with english": ("mixed 中文 and English 和 日本語 with 123 numbers, 한국어도 조금. ") * 30,
        "rare cjk characters": "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(800)),
        "emoji": "🌍🚀😀👨‍👩‍👧‍👦🏳️‍🌈👍🏽❤️🔥✨🎉" * 30,
        "emoji in text": "emoji in text 😀 like this 🎉 and that 🚀! " * 40,
        "base64": base64.b64encode(rng.randbytes(6000)).decode(),
        "hex": rng.randbytes(3000).hex(),
        "digits": pick(string.digits, 6000),
        "numbers": " ".join(str(rng.randint(0, 10**9)) for _ in range(800)),
        "run of a": "a" * 20000, "run of spaces": " " * 8000, "run of newlines": "\n" * 3000,
        "run of equals": "=" * 8000, "run of 中": "中" * 4000, "run of emoji": "😀" * 2000,
        "run of digit": "7" * 6000,
        "russian": RUSSIAN * 4, "greek": GREEK * 4, "arabic": ARABIC * 4,
    }
    return texts


def english_question(words: int = 3995) -> str:
    """English prose that asks a question; 3,995 words is 4,594 tokens by the Llama 3 tokenizer (tests check it)."""
    prose = (ENGLISH + TECHNICAL).split()
    return QUESTION.replace("\n", " ") + " ".join(prose[i % len(prose)] for i in range(words))
