// Drag and drop on the opportunity board: dropping a card on a stage submits
// that card's own "Move" form with the stage chosen (the same request the
// keyboard path sends), so the server decides and the page shows the result.
(function () {
  "use strict";
  var dragged = null;
  document.querySelectorAll(".board .card").forEach(function (card) {
    card.addEventListener("dragstart", function (event) {
      dragged = card;
      card.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.id);
    });
    card.addEventListener("dragend", function () {
      card.classList.remove("dragging");
      dragged = null;
    });
  });
  document.querySelectorAll(".board .stage").forEach(function (stage) {
    stage.addEventListener("dragover", function (event) {
      if (dragged && stage.dataset.stage) {
        event.preventDefault();
        stage.classList.add("over");
      }
    });
    stage.addEventListener("dragleave", function () { stage.classList.remove("over"); });
    stage.addEventListener("drop", function (event) {
      event.preventDefault();
      stage.classList.remove("over");
      if (!dragged || !stage.dataset.stage) { return; }
      var form = dragged.querySelector("form.move");
      form.querySelector("select[name=stage]").value = stage.dataset.stage;
      stage.querySelector(".cards").appendChild(dragged);
      form.submit();
    });
  });
}());
