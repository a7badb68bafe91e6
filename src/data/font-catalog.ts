/**
 * The font families glyphlab draws synthetic images with: one `@fontsource/<family>` package each,
 * every one installed as an exact dependency. A family is listed only when its latin
 * 400-normal `.woff` has all of `+-*=()0123456789` with ordinary, readable digits (no symbol,
 * icon or barcode fonts). Categories follow each package's `metadata.json`, except that
 * atkinson-hyperlegible-mono, cascadia-code and noto-sans-mono (filed there as sans-serif) are
 * monospaced and listed as `mono`. test/data/fonts.test.ts loads every face of every family.
 */

/** The look of a font family; `handwriting` covers scripts and hand-drawn letters. */
export type FontCategory = 'sans' | 'serif' | 'mono' | 'display' | 'handwriting';

/** The catalog's families by category, each list in alphabetical order. */
export const FONT_FAMILIES_BY_CATEGORY: { readonly [C in FontCategory]: readonly string[] } = {
  sans: [
    'abel', 'anton', 'archivo-narrow', 'arimo', 'asap', 'barlow', 'bebas-neue', 'cabin',
    'cantarell', 'carlito', 'days-one', 'dejavu-sans', 'didact-gothic', 'encode-sans', 'exo-2',
    'fira-sans', 'fredoka', 'hind', 'ibm-plex-sans', 'josefin-sans', 'karla', 'lato',
    'league-gothic', 'montserrat', 'mulish', 'nunito-sans', 'open-sans', 'oxygen', 'paytone-one',
    'poppins', 'pt-sans', 'pt-sans-narrow', 'questrial', 'raleway', 'roboto', 'rubik', 'rubik-one',
    'russo-one', 'signika', 'source-sans-3', 'titillium-web', 'ubuntu', 'varela-round', 'work-sans',
  ],
  serif: [
    'adamina', 'alegreya', 'aleo', 'alice', 'arvo', 'bitter', 'brawler', 'bree-serif', 'caladea',
    'cardo', 'cormorant-garamond', 'crimson-pro', 'crimson-text', 'dm-serif-text', 'domine',
    'eb-garamond', 'frank-ruhl-libre', 'gelasio', 'gentium-book-plus', 'graduate', 'halant',
    'ibm-plex-serif', 'im-fell-english', 'libre-baskerville', 'libre-caslon-text', 'lora',
    'lustria', 'martel', 'merriweather', 'noto-serif', 'old-standard-tt', 'ovo', 'playfair-display',
    'poly', 'prata', 'pt-serif', 'quattrocento', 'roboto-slab', 'rufina', 'sanchez', 'slabo-27px',
    'sorts-mill-goudy', 'source-serif-4', 'spectral', 'tinos', 'unna', 'volkhov', 'vollkorn',
    'yrsa', 'zilla-slab',
  ],
  mono: [
    'anonymous-pro', 'atkinson-hyperlegible-mono', 'azeret-mono', 'b612-mono', 'cascadia-code',
    'comic-mono', 'commit-mono', 'courier-prime', 'cousine', 'dejavu-mono', 'dm-mono', 'fira-code',
    'fira-mono', 'fragment-mono', 'geist-mono', 'ibm-plex-mono', 'inconsolata', 'jetbrains-mono',
    'kode-mono', 'lekton', 'noto-sans-mono', 'overpass-mono', 'pt-mono', 'red-hat-mono',
    'reddit-mono', 'roboto-mono', 'share-tech-mono', 'sometype-mono', 'source-code-pro',
    'space-mono', 'spline-sans-mono', 'ubuntu-mono', 'victor-mono', 'vt323',
  ],
  display: [
    'abril-fatface', 'alfa-slab-one', 'audiowide', 'balsamiq-sans', 'bangers', 'black-ops-one',
    'bowlby-one-sc', 'bubblegum-sans', 'bungee', 'cabin-sketch', 'calistoga', 'carter-one',
    'changa-one', 'chewy', 'coiny', 'comfortaa', 'finger-paint', 'freehand', 'germania-one',
    'happy-monkey', 'iceland', 'knewave', 'lilita-one', 'lobster', 'lobster-two', 'londrina-solid',
    'luckiest-guy', 'medievalsharp', 'passion-one', 'patua-one', 'poiret-one', 'press-start-2p',
    'rammetto-one', 'righteous', 'shantell-sans', 'shrikhand', 'sigmar-one', 'silkscreen',
    'sniglet', 'special-elite', 'staatliches', 'titan-one', 'uncial-antiqua', 'yeseva-one',
    'zen-dots',
  ],
  handwriting: [
    'allura', 'amatic-sc', 'annie-use-your-telescope', 'architects-daughter', 'bad-script',
    'caveat', 'caveat-brush', 'cedarville-cursive', 'chilanka', 'comic-neue', 'coming-soon',
    'condiment', 'cookie', 'courgette', 'covered-by-your-grace', 'damion', 'dancing-script',
    'dawning-of-a-new-day', 'delius', 'gloria-hallelujah', 'gochi-hand', 'grand-hotel',
    'great-vibes', 'handlee', 'homemade-apple', 'indie-flower', 'itim', 'kalam', 'kaushan-script',
    'la-belle-aurore', 'mansalva', 'marck-script', 'neucha', 'nothing-you-could-do', 'pacifico',
    'parisienne', 'patrick-hand', 'permanent-marker', 'reenie-beanie', 'rochester', 'rock-salt',
    'sacramento', 'satisfy', 'schoolbell', 'shadows-into-light', 'short-stack', 'sriracha',
    'sue-ellen-francisco', 'swanky-and-moo-moo', 'the-girl-next-door', 'yellowtail',
  ],
};
