"""Container names: Docker's validation rule and its adjective_surname generator."""
from __future__ import annotations

import os
import re

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")

_LEFT = ("admiring adoring affectionate agitated amazing angry awesome beautiful blissful bold boring brave busy "
         "charming clever compassionate competent condescending confident cool cranky crazy dazzling determined "
         "distracted dreamy eager ecstatic elastic elated elegant eloquent epic exciting fervent festive flamboyant "
         "focused friendly frosty funny gallant gifted goofy gracious great happy hardcore heuristic hopeful hungry "
         "infallible inspiring intelligent interesting jolly jovial keen kind laughing loving lucid magical modest "
         "musing mystifying naughty nervous nice nifty nostalgic objective optimistic peaceful pedantic pensive "
         "practical priceless quirky quizzical recursing relaxed reverent romantic sad serene sharp silly sleepy "
         "stoic strange stupefied suspicious sweet tender thirsty trusting unruffled upbeat vibrant vigilant "
         "vigorous wizardly wonderful xenodochial youthful zealous zen").split()
_RIGHT = ("albattani allen almeida archimedes ardinghelli aryabhata austin babbage banach bardeen bartik bassi "
          "bell benz bhabha bhaskara blackwell bohr booth borg bose boyd brahmagupta brattain brown buck burnell "
          "cannon carson cartwright chandrasekhar chaplygin chatelet chatterjee chebyshev clarke cohen colden cori "
          "cray curie darwin davinci dewdney dhawan diffie dijkstra dirac driscoll dubinsky easley edison einstein "
          "elion ellis engelbart euclid euler faraday feistel fermat fermi feynman franklin gagarin galileo galois "
          "ganguly gates gauss germain goldberg goldstine goldwasser golick goodall gould greider grothendieck "
          "haibt hamilton haslett hawking heisenberg hellman hermann herschel hertz heyrovsky hodgkin hofstadter "
          "hoover hopper hugle hypatia jackson jang jennings jepsen johnson joliot jones kalam kapitsa kare keldysh "
          "keller kepler khayyam khorana kilby kirch knuth kowalevski lalande lamarr lamport leakey leavitt lederberg "
          "lehmann lewin lichterman liskov lovelace lumiere mahavira margulis matsumoto maxwell mayer mccarthy "
          "mcclintock mclaren mclean mcnulty meitner mendel mendeleev meninsky merkle mestorf mirzakhani montalcini "
          "moore morse moser murdock napier nash neumann newton nightingale nobel noether northcutt noyce panini "
          "pare pascal pasteur payne perlman pike poincare poitras proskuriakova ptolemy raman ramanujan rhodes "
          "ride ritchie robinson roentgen rosalind rubin saha sammet sanderson satoshi shamir shannon shaw shirley "
          "shockley shtern sinoussi snyder solomon spence stonebraker sutherland swanson swartz swirles taussig "
          "tesla tharp thompson torvalds tu turing varahamihira vaughan villani visvesvaraya volhard wescoff "
          "wilbur wiles williams williamson wilson wing wozniak wright wu yalow yonath zhukovsky").split()


class InvalidName(ValueError):
    pass


def validate(name: str) -> str:
    """The stored form is '/name'; raise InvalidName with Docker's message."""
    if not NAME_RE.match(name):
        raise InvalidName(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return name if name.startswith("/") else "/" + name


def generate(taken, retries: int = 10) -> str:
    """A free adjective_surname name ('boring_wozniak' is never generated, as in Docker)."""
    rnd = os.urandom
    for i in range(retries + 50):
        left = _LEFT[rnd(1)[0] % len(_LEFT)]
        right = _RIGHT[int.from_bytes(rnd(2), "big") % len(_RIGHT)]
        name = f"{left}_{right}"
        if name == "boring_wozniak":
            continue
        if i >= retries:
            name += str(rnd(1)[0] % 10)
        if not taken("/" + name):
            return "/" + name
    raise RuntimeError("could not generate a free container name")
