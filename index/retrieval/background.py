"""Everyday passages on unrelated topics: the yardstick for "is this question answered at all?".

A question's cosine to the articles depends on its language and wording as much as on
the answer being there: asked in English or German, the same question scores ~0.04 lower
against French passages than asked in French. Its cosine to these passages, which answer
nothing, measures that offset, so the threshold compares like with like.
"""

from __future__ import annotations

__all__ = ["BACKGROUND_PASSAGES"]

BACKGROUND_PASSAGES: tuple[str, ...] = (
    "Pour réussir une pâte à crêpes, mélangez la farine, les œufs et le lait, puis laissez reposer une heure.",
    "Le marché du samedi matin propose des fruits de saison, des fromages locaux et du pain frais.",
    "Le match s'est terminé sur un score nul après une seconde mi-temps sans occasion franche.",
    "La météo annonce des averses en fin de journée et une baisse des températures pour le week-end.",
    "Pensez à redémarrer votre ordinateur après l'installation de la mise à jour du système.",
    "Le musée ouvre ses portes de 9 heures à 18 heures, sauf le mardi et les jours fériés.",
    "La réunion des parents d'élèves aura lieu jeudi soir dans la salle polyvalente de l'école.",
    "Ce roman raconte l'histoire d'une famille qui quitte la ville pour s'installer à la campagne.",
    "Le train en provenance de Lyon arrivera avec un retard d'environ vingt minutes.",
    "Arrosez les tomates le soir, au pied, pour éviter les maladies du feuillage.",
    "La mairie rappelle que le ramassage des encombrants a lieu le premier lundi du mois.",
    "Le concert de l'orchestre municipal est gratuit et ouvert à tous dans la limite des places.",
    "Une alimentation variée et une activité physique régulière contribuent à une bonne santé.",
    "La nouvelle version de l'application permet de partager ses photos plus facilement.",
    "Le club de randonnée organise une sortie en montagne le mois prochain.",
    "Les soldes d'hiver commencent mercredi dans la plupart des magasins.",
    "Le chat de la voisine dort toute la journée sur le rebord de la fenêtre.",
    "Il faut compter environ trois heures de route pour rejoindre la côte depuis la capitale.",
    "La bibliothèque prête des livres, des disques et des jeux de société.",
    "Le gâteau au chocolat se conserve deux jours dans une boîte hermétique.",
    "L'entreprise a présenté son rapport annuel lors de l'assemblée générale des actionnaires.",
    "Les enfants ont construit une cabane dans le jardin avec de vieilles planches.",
    "Le festival de cinéma a récompensé un premier film tourné avec un petit budget.",
    "Pour économiser l'énergie, baissez le chauffage d'un degré et fermez les volets la nuit.",
    "La piscine municipale sera fermée pour travaux pendant tout le mois d'août.",
    "Le professeur a donné un exercice de mathématiques à rendre pour lundi.",
    "Cette recette de soupe de légumes est simple, rapide et économique.",
    "Le vol a été annulé à cause d'une grève des contrôleurs aériens.",
    "Les abonnés peuvent résilier leur contrat à tout moment sans frais.",
    "Le jardin botanique abrite plus de mille espèces de plantes.",
    "Un bon café se prépare avec une eau peu calcaire et des grains fraîchement moulus.",
    "La course cycliste traversera le village en début d'après-midi.",
    "The weekly farmers market sells fresh bread, cheese and seasonal vegetables.",
    "Remember to back up your files before installing the new operating system.",
    "The football match ended in a draw after a goalless second half.",
    "Our cooking class will teach you how to bake a simple loaf of bread at home.",
    "The museum is open every day except Tuesdays and public holidays.",
    "Traffic is expected to be heavy on the motorway during the holiday weekend.",
    "Der Wochenmarkt bietet frisches Obst, Gemüse und Brot aus der Region.",
    "El mercado del sábado ofrece fruta de temporada, quesos y pan recién hecho.",
    "Il mercato del sabato offre frutta di stagione, formaggi e pane fresco.",
    "O mercado de sábado oferece frutas da estação, queijos e pão fresco.",
)
