// The type page's fees: each fee's `when` gets the condition builder over the application form's fields;
// the text input stays (it is what the form posts) as the advanced view. Without JavaScript the page is
// the plain form it was.
import { mountConditionBuilder } from './condition_builder';

function enhance(input, fields) {
  const host = document.createElement('div');
  host.className = 'bdc-fee-builder';
  const details = document.createElement('details');
  details.className = 'bdc-cond-text';
  const summary = document.createElement('summary');
  summary.textContent = '表达式（高级）';
  input.parentNode.insertBefore(host, input);
  input.parentNode.insertBefore(details, input);
  details.append(summary, input);
  if (input.value.trim()) details.open = false;
  const widget = mountConditionBuilder(host, {
    fields, text: input.value, onChange: (text) => { input.value = text; }
  });
  input.addEventListener('input', () => widget.update(input.value));
}

const config = document.getElementById('fee-condition-fields');
if (config) {
  const fields = JSON.parse(config.textContent);
  document.querySelectorAll('input[name^="fees-"][name$="-when"]').forEach((input) => enhance(input, fields));
}
