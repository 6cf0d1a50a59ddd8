import pull from './marketplaces/ebay.ts';
for (let i = 0; i < 3; i++) {
  const r = await pull.run({ quick: false, progress: () => {} });
  console.log(r.seconds.toFixed(3), r.floorSeconds.toFixed(3), (r.seconds / r.floorSeconds).toFixed(2), r.note);
}
